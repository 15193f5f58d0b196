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

from collections.abc import Callable, Sequence
from datetime import datetime

from flask import current_app, request
from markupsafe import Markup

from competency_app.accounts.models import Team
from competency_app.clock import utcnow
from competency_app.common.caches import BoundedCache, per_process_cache
from competency_app.common.dates import london_day
from competency_app.common.holes import fill, holes, marker
from competency_app.coverage import actions, services
from competency_app.coverage.figures import FIGURES, figures_key
from competency_app.coverage.services import TeamCoverage
from competency_app.framework.models import FrameworkVersion

TEMPLATE = "coverage/_matrix_and_gaps.html"


FRAGMENTS: BoundedCache[Markup] = BoundedCache(256)
per_process_cache("coverage page fragments", FRAGMENTS.clear)


def fragment_key(
    team: Team,
    version: FrameworkVersion,
    members: Sequence,
    figures_from: datetime | None,
    now: datetime,
    permission_class: tuple[bool, ...],
) -> tuple:
    """What the fragment shows depends on: the figures' key (team, coverage epoch, version
    and content hash, member ids) and the moment they were computed (a recomputed set after
    an expiry is a new key); the day, since the closest members to a skill read ratings below
    Developing whose expiry the figures do not track; the members' names and the team's slug
    (in its text and links, changed without an epoch bump); and the viewer's permission
    class, never the viewer. `members` are people or (id, name) rows."""
    return (
        *figures_key(team, version, [m.id for m in members]),
        figures_from,
        london_day(now),
        tuple(m.name for m in members),
        team.slug,
        permission_class,
    )


def _key_of(cov: TeamCoverage, permission_class: tuple[bool, ...]) -> tuple:
    return fragment_key(
        cov.team, cov.version, cov.members, cov.figures_from, cov.now, permission_class
    )


def render(cov: TeamCoverage) -> Markup:
    """The matrix and gap cards' HTML for `cov`, uncached."""
    template = current_app.jinja_env.get_template(TEMPLATE)
    return Markup(  # noqa: S704 - an autoescaping template's output, already escaped
        template.render(
            cov=cov,
            rows=services.matrix_rows(cov),
            actions=actions.gap_actions(cov),
            skill_actions=actions.skill_gap_actions(cov),
            status_labels=services.STATUS_LABELS,
        )
    )


def matrix_and_gaps(cov: TeamCoverage, permission_class: tuple[bool, ...]) -> Markup:
    """Today's fragment for this team and permission class: from the cache, or rendered
    and kept."""
    key = _key_of(cov, permission_class)
    html = FRAGMENTS.get(key)
    if html is None:
        html = render(cov)
        FRAGMENTS.put(key, html)
    return html


OPTIONS: BoundedCache[Markup] = BoundedCache(256)
_OPTION = Markup('<option value="{}">{}</option>')
_SELECTED = Markup('<option value="{}" selected>{}</option>')
per_process_cache("coverage page member options", OPTIONS.clear)


def member_options(people: list, selected: str) -> Markup:
    """The what-if list's `<option>`s: a prompt, then `people` by name, `selected` (a typed
    id) marked; kept per (people's ids and names, selection)."""
    named = tuple(sorted(((m.name, m.id) for m in people), key=lambda item: item[0]))
    key = (named, selected)
    html = OPTIONS.get(key)
    if html is None:
        options = [Markup('<option value="">Choose a team member</option>')]
        for name, person in named:
            template = _SELECTED if str(person) == selected else _OPTION
            options.append(template.format(person, name))
        html = Markup("").join(options)
        OPTIONS.put(key, html)
    return html


# ---- the whole of today's page ------------------------------------------------------------

SHELLS: BoundedCache[str] = BoundedCache(256)
per_process_cache("coverage pages", SHELLS.clear)
MATRIX = "matrix-and-gaps"


def shell_key(fragment: tuple, team: Team, now: datetime) -> tuple:
    """The rest of today's page depends on what the fragment does (`fragment`, its key), and
    on the team's name (its title), its training epoch (the training line:
    `training/team_line.py`), the UTC day (the look-ahead links) and the address the app is
    served under."""
    return (*fragment, team.name, team.training_epoch, now.date(), request.script_root)


def today_page(
    team: Team,
    version: FrameworkVersion,
    permission_class: tuple[bool, ...],
    render_shell: Callable[[TeamCoverage, Markup], str],
) -> Markup:
    """Today's page for this team and permission class, the request's own parts (header,
    script nonce) put in by `common/holes.fill`.

    When the team's figures are cached and still hold, the page is found from the members'
    ids and names alone (one light query): no coverage is judged and nothing rendered.
    Otherwise the coverage is worked out (`coverage_for_team`) and `render_shell(cov,
    matrix)` renders the page, inside `holes()`, with `matrix` standing for the fragment;
    the page without the fragment is kept (`SHELLS`), the fragment on its own
    (`FRAGMENTS`), so a page holds no copy of another's matrix.
    """
    now = utcnow()
    people = services.team_practitioner_names(team, now)
    figures = FIGURES.get_at(figures_key(team, version, [p.id for p in people]), now)
    if figures is not None:
        fragment = fragment_key(team, version, people, figures.valid_from, now, permission_class)
        shell = SHELLS.get(shell_key(fragment, team, now))
        matrix = FRAGMENTS.get(fragment)
        if shell is not None and matrix is not None:
            return fill(shell, **{MATRIX: matrix})
    cov = services.coverage_for_team(team, version)
    key = shell_key(_key_of(cov, permission_class), cov.team, cov.now)
    shell = SHELLS.get(key)
    if shell is None:
        with holes():
            shell = render_shell(cov, marker(MATRIX))
        SHELLS.put(key, shell)
    return fill(shell, **{MATRIX: matrix_and_gaps(cov, permission_class)})
