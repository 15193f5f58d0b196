"""Coverage charts: holders per element, and coverage across supervision cycles."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import and_, func, select

from competency_app.assessments.charts import figure_class, plain
from competency_app.assessments.models import ValidatedRating
from competency_app.extensions import db
from competency_app.framework.models import Skill


def _save(figure, fmt: str) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    return buffer.getvalue()


def _label(element) -> str:
    return element.display_name[:44]


def coverage_by_element(cov, fmt: str) -> bytes:
    """Horizontal bars of holders per element, with the required number marked."""
    elements = cov.elements
    figure = figure_class()(figsize=(8, 0.5 * len(elements) + 1.6), dpi=100)
    axes = figure.add_subplot()
    positions = range(len(elements))
    colours = [
        "#d5281b" if e.is_gap else "#ffb81c" if e.at_risk(cov.horizon) else "#007f3b"
        for e in elements
    ]
    axes.barh(list(positions), [len(e.holder_expiry) for e in elements], color=colours)
    for position, e in zip(positions, elements, strict=True):
        required = len(cov.members) if e.element.expected_of_everyone else e.min_holders
        axes.plot([required, required], [position - 0.4, position + 0.4], color="#212b32")
        state = "gap" if e.is_gap else "at risk" if e.at_risk(cov.horizon) else "covered"
        axes.text(len(e.holder_expiry) + 0.1, position, state, va="center", fontsize="small")
    axes.set_yticks(list(positions), [plain(_label(e.element)) for e in elements])
    axes.invert_yaxis()
    axes.set_xlim(0, max(len(cov.members), 1) + 1.5)
    axes.set_xlabel("Team members holding the element (black line: number required)")
    axes.set_title(plain(f"{cov.team.name}: coverage by element"))
    figure.tight_layout()
    return _save(figure, fmt)


def coverage_over_time(cov, fmt: str) -> bytes:
    """Elements held by at least `min_holders`, at the end of each quarter, from history."""
    ids = [m.id for m in cov.members]
    competent = cov.competent_level
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
        return _save(figure, fmt)
    from competency_app.coverage.services import _aware

    first = _aware(first)
    points, counts = [], []
    moment = first + timedelta(days=1)
    skill_counts = {e.element.id: e.skill_count for e in cov.elements}
    min_holders = {e.element.id: e.min_holders for e in cov.elements}
    while True:
        # as at `moment`: each person's latest validation per skill (history table)
        latest = (
            select(
                ValidatedRating.person_id,
                ValidatedRating.skill_key,
                func.max(ValidatedRating.validated_at).label("at"),
            )
            .where(ValidatedRating.person_id.in_(ids), ValidatedRating.validated_at <= moment)
            .group_by(ValidatedRating.person_id, ValidatedRating.skill_key)
            .subquery()
        )
        rows = db.session.execute(
            select(ValidatedRating.person_id, Skill.element_id, func.count())
            .join(
                latest,
                and_(
                    latest.c.person_id == ValidatedRating.person_id,
                    latest.c.skill_key == ValidatedRating.skill_key,
                    latest.c.at == ValidatedRating.validated_at,
                ),
            )
            .join(
                Skill,
                and_(Skill.key == ValidatedRating.skill_key, Skill.version_id == cov.version.id),
            )
            .where(ValidatedRating.level >= competent, ValidatedRating.expires_at > moment)
            .group_by(ValidatedRating.person_id, Skill.element_id)
        ).all()
        holders: dict[int, int] = {}
        for _person, element_id, count in rows:
            if count == skill_counts.get(element_id):
                holders[element_id] = holders.get(element_id, 0) + 1
        points.append(moment)
        counts.append(sum(1 for e, n in holders.items() if n >= min_holders.get(e, 1)))
        if moment >= cov.now:
            break
        moment = min(moment + timedelta(days=30), cov.now)
    axes.step(points, counts, where="post", color="#005eb8")
    axes.set_ylim(0, len(cov.elements) + 0.5)
    axes.set_ylabel("Elements covered")
    axes.set_title(plain(f"{cov.team.name}: elements covered over time"))
    axes.grid(alpha=0.3)
    figure.autofmt_xdate()
    figure.tight_layout()
    return _save(figure, fmt)
