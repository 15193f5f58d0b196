"""Coverage charts: each element against its rule, and elements met over time."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from competency_app.assessments.models import ValidatedRating
from competency_app.common.charts import figure_class, plain, save
from competency_app.coverage.figures import aware
from competency_app.coverage.services import coverage_over_time as coverage_at
from competency_app.extensions import db


def _label(element) -> str:
    return element.display_name[:44]


def _progress(e) -> float:
    """How far the element is towards its rule, 0 to 1 (both rules, and everyone)."""
    so_far, needed = e.against_rule
    return min(so_far / max(needed, 1), 1.0)


def coverage_by_element(cov, fmt: str) -> bytes:
    """Horizontal bars of how far each element is towards its rule, with its status (the
    same statuses as the page, the API and the workbook)."""
    elements = cov.elements
    figure = figure_class()(figsize=(8, 0.5 * len(elements) + 1.6), dpi=100)
    axes = figure.add_subplot()
    positions = range(len(elements))
    colours = [
        "#d5281b" if e.is_gap else "#ffb81c" if e.is_at_risk else "#007f3b" for e in elements
    ]
    shares = [100 * _progress(e) for e in elements]
    axes.barh(list(positions), shares, color=colours)
    for position, e, share in zip(positions, elements, shares, strict=True):
        state = "gap" if e.is_gap else "at risk" if e.is_at_risk else "met"
        axes.text(min(share, 100) + 1, position, state, va="center", fontsize="small")
    axes.set_yticks(list(positions), [plain(_label(e.element)) for e in elements])
    axes.invert_yaxis()
    axes.set_xlim(0, 118)
    axes.set_xlabel(
        "% of skills held by enough members (for everyone: of members)"
        if cov.rule == "each_skill"
        else "% of the members needed who hold every skill"
    )
    axes.set_title(plain(f"{cov.team.name}: coverage by element"))
    figure.tight_layout()
    return save(figure, fmt)


def over_time_moments(first, now) -> list:
    """A day after the first validation, then every 30 days, and `now`."""
    moments = [first + timedelta(days=1)]
    while moments[-1] < now:
        moments.append(min(moments[-1] + timedelta(days=30), now))
    return moments


def coverage_over_time(cov, fmt: str) -> bytes:
    """Elements met under the framework's rule every 30 days, from the rating history."""
    ids = [m.id for m in cov.members]
    first = db.session.scalar(
        select(func.min(ValidatedRating.validated_at)).where(
            ValidatedRating.person_id.in_(ids or [-1])
        )
    )
    figure = figure_class()(figsize=(8, 3.6), dpi=100)
    axes = figure.add_subplot()
    if first is None:
        axes.text(0.5, 0.5, "No validated ratings yet", ha="center", va="center")
        axes.set_axis_off()
        return save(figure, fmt)
    points = over_time_moments(aware(first), cov.now)
    # as at each moment, from the rating history read once: the same rule as the page
    counts = [past.counts["elements_met"] for past in coverage_at(cov.team, cov.version, points)]
    axes.step(points, counts, where="post", color="#005eb8")
    axes.set_ylim(0, len(cov.elements) + 0.5)
    axes.set_ylabel("Elements met")
    axes.set_title(plain(f"{cov.team.name}: elements met over time"))
    axes.grid(alpha=0.3)
    figure.autofmt_xdate()
    figure.tight_layout()
    return save(figure, fmt)
