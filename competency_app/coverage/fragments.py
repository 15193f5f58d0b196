"""The team coverage page's matrix and gap cards, rendered once and reused.

They are most of the page's rendering (a team of 50 has 400 matrix cells and a card per
gap) and depend only on the team's figures, its members and the framework version: the
same for every viewer with the same permissions. Today's unfiltered page keeps them in a
per-process LRU (`FRAGMENTS`) under `fragment_key`; an as-at date or a member left out
renders them afresh. A fragment holds nothing personal to the viewer and no form token:
the page around it (the header with the viewer's name and sign-out form, the export link,
the training line and the what-if form) is put together on every request, and the
response is still `no-store` to the browser.
"""

from __future__ import annotations

from flask import current_app
from markupsafe import Markup

from competency_app.common.caches import BoundedCache, per_process_cache
from competency_app.common.dates import london_day
from competency_app.coverage import services
from competency_app.coverage.figures import figures_key
from competency_app.coverage.services import TeamCoverage

TEMPLATE = "coverage/_matrix_and_gaps.html"


FRAGMENTS: BoundedCache[Markup] = BoundedCache(256)
per_process_cache("coverage page fragments", FRAGMENTS.clear)


def fragment_key(cov: TeamCoverage, permission_class: tuple[bool, ...]) -> tuple:
    """What the fragment shows depends on: the figures' key (team, coverage epoch, version
    and content hash, member ids) and the moment they were computed (a recomputed set after
    an expiry is a new key); the day, since the closest members to a skill read ratings below
    Developing whose expiry the figures do not track; the members' names and the team's slug
    (in its text and links, changed without an epoch bump); and the viewer's permission
    class, never the viewer."""
    ids = [m.id for m in cov.members]
    return (
        *figures_key(cov.team, cov.version, ids),
        cov.figures_from,
        london_day(cov.now),
        tuple(m.name for m in cov.members),
        cov.team.slug,
        permission_class,
    )


def render(cov: TeamCoverage) -> Markup:
    """The matrix and gap cards' HTML for `cov`, uncached."""
    template = current_app.jinja_env.get_template(TEMPLATE)
    return Markup(  # noqa: S704 - an autoescaping template's output, already escaped
        template.render(
            cov=cov,
            rows=services.matrix_rows(cov),
            actions=services.gap_actions(cov),
            skill_actions=services.skill_gap_actions(cov),
            status_labels=services.STATUS_LABELS,
        )
    )


def matrix_and_gaps(cov: TeamCoverage, permission_class: tuple[bool, ...]) -> Markup:
    """Today's fragment for this team and permission class: from the cache, or rendered
    and kept."""
    key = fragment_key(cov, permission_class)
    html = FRAGMENTS.get(key)
    if html is None:
        html = render(cov)
        FRAGMENTS.put(key, html)
    return html
