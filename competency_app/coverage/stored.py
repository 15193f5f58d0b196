"""Each team's coverage figures kept in the database, brought up to date after every sign-off.

The per-process cache (`figures.FIGURES`) starts empty in every process, and every
validation moves the team's epoch on, so after a validation each process would work the
figures out afresh: the coverage aggregate over every member's ratings, the values
sign-offs, and the Python that turns them into figures. Instead each sign-off queues a job
for after its commit (`keep_current`, registered with `assessments/projection`; the job is
`keep_figures_task`, run by the worker, or in-process where jobs run in-process) that
brings the team's stored figures up to date (`bring_up_to_date`): it reads only the
signed-off person's rows of the aggregate and values sign-offs, takes that person's old
part out of the team's kept tally and adds the new one (`figures.Tally`, with which a fresh
computation adds up every member's rows), and stores the tally and the figures it gives,
for the team's new epoch, with the team's coverage in counts as the regional view reads
them (`services.team_counts`). Off the supervisor's click, it costs the sign-off one push onto
the queue. A process with a cold cache reads the figures (`stored_figures`: one row by
key) when they are for the team's current epoch, the same members in the same order, the
current version, and a moment within the window they hold for; anything else (the job not
run yet, for one) is computed as before.

When the stored figures cannot be brought up to date from the last ones — none yet (a new
team, or bulk-seeded data), another epoch (a write that did not keep them, or a later
sign-off whose job ran first), the members changed, another version, or the clock past
the moment they held until — the job computes the team's in full. Jobs may run late, twice
or out of order: each works from the team's epoch as it reads it, and never replaces
figures of a later epoch.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.dialects import postgresql, sqlite

from competency_app.accounts.models import Role, Team
from competency_app.accounts.services import team_member_ids
from competency_app.assessments.projection import after_ratings_written
from competency_app.clock import utcnow
from competency_app.common.after_commit import after_commit
from competency_app.coverage.figures import (
    FIGURES,
    SkillFigures,
    Tally,
    TeamFigures,
    aware,
    fetch,
    figures_key,
    team_figures,
    version_shape,
)
from competency_app.coverage.models import StoredTeamFigures
from competency_app.extensions import db
from competency_app.framework.models import FrameworkVersion
from competency_app.framework.services import version_structure
from competency_app.jobs.queue import huey, job_app

_TABLE = cast(Table, StoredTeamFigures.__table__)
# The shape of the stored JSON: figures stored in another shape are not read.
_FORMAT = 2  # 2: the figures of the skills expected of everyone
_S = StoredTeamFigures


def _moment(value) -> str | None:
    """A kept row's time (a datetime, or SQLite's text) as text of one fixed shape, so that
    kept and new rows compare as text the way they would as times."""
    return None if value is None else aware(value).isoformat(timespec="microseconds")


def _fetched(version: FrameworkVersion, ids: list[int], now: datetime) -> tuple[list, list]:
    """`fetch`'s rows and sign-offs with every time as `_moment` text: the tally kept
    compares them as text with the rows fetched at the next sign-off."""
    rows, signoffs = fetch(version, ids, now)
    return (
        [
            (
                person,
                key,
                held,
                developing,
                _moment(whole),
                _moment(expiry),
                _moment(durable),
                _moment(everyone),
                *k,
            )
            for person, key, held, developing, whole, expiry, durable, everyone, *k in rows
        ],
        [[person, _moment(validated), evidenced] for person, validated, evidenced in signoffs],
    )


def _pairs(by_person: dict) -> list[list]:
    return [[person, value] for person, value in by_person.items()]


def _dump_tally(tally: Tally, signoffs: list) -> dict[str, Any]:
    return {
        "format": _FORMAT,
        "competent": {key: _pairs(people) for key, people in tally.competent.items() if people},
        "developing": {key: _pairs(people) for key, people in tally.developing.items() if people},
        "whole": {key: _pairs(people) for key, people in tally.whole.items() if people},
        "holders": {key: people for key, people in tally.holders.items() if people},
        "durable": {key: people for key, people in tally.durable.items() if people},
        "changes": [[person, *change] for person, change in tally.changes.items()],
        "everyone": {key: _pairs(people) for key, people in tally.everyone.items() if people},
        "signoffs": signoffs,
    }


def _by_element(pairs: dict[str, list]) -> defaultdict:
    """`_pairs` per element back into element -> person -> value."""
    return defaultdict(dict, {key: dict(people) for key, people in pairs.items()})


def _load_tally(body: dict[str, Any]) -> tuple[Tally, list]:
    tally = Tally(
        _by_element(body["competent"]),
        _by_element(body["developing"]),
        _by_element(body["whole"]),
        defaultdict(list, body["holders"]),
        defaultdict(list, body["durable"]),
        {person: change for person, *change in body["changes"]},
        _by_element(body["everyone"]),
    )
    return tally, body["signoffs"]


def _dump(figures: TeamFigures) -> dict[str, Any]:
    return {
        "format": _FORMAT,
        "competent": {key: _pairs(people) for key, people in figures.competent.items()},
        "developing": {key: _pairs(people) for key, people in figures.developing.items()},
        "holder_expiry": {
            key: [[person, moment.isoformat()] for person, moment in people.items()]
            for key, people in figures.holder_expiry.items()
        },
        "skills": {
            key: [s.holders, s.durable, s.first_holder, s.last_holder]
            for key, s in figures.skills.items()
        },
        "values": [[person, lapse.isoformat()] for person, lapse in figures.values_met.items()],
        "everyone": {
            key: [[person, moment.isoformat()] for person, moment in people.items()]
            for key, people in figures.everyone_expiry.items()
        },
    }


def _load(body: dict[str, Any], valid_from: datetime, valid_until: datetime | None):
    parse = datetime.fromisoformat
    return TeamFigures(
        _by_element(body["competent"]),
        _by_element(body["developing"]),
        defaultdict(
            dict,
            {
                key: {person: parse(moment) for person, moment in people}
                for key, people in body["holder_expiry"].items()
            },
        ),
        {key: SkillFigures(*figures) for key, figures in body["skills"].items()},
        {person: parse(lapse) for person, lapse in body["values"]},
        valid_from,
        valid_until,
        everyone_expiry=defaultdict(
            dict,
            {
                key: {person: parse(moment) for person, moment in people}
                for key, people in body["everyone"].items()
            },
        ),
    )


def _holds(valid_from: datetime, valid_until: datetime | None, now: datetime) -> bool:
    return valid_from <= now and (valid_until is None or now < valid_until)


def stored_figures(
    team: Team, version: FrameworkVersion, ids: list[int], now: datetime
) -> TeamFigures | None:
    """The team's stored figures, when they are for its epoch as read in this transaction,
    `version`, these members in this order, and hold at `now`; else None."""
    return stored_figures_of_teams([team], version, [ids], now).get(team.id)


def stored_figures_of_teams(
    teams: list[Team], version: FrameworkVersion, members: list[list[int]], now: datetime
) -> dict[int, TeamFigures]:
    """The stored figures of several teams (`members`: each team's ids, in order) from one
    statement: team id -> its figures, for the teams whose stored figures are for the
    team's epoch as read in this transaction, `version`, these members in this order, and
    hold at `now`."""
    epochs = {team.id: team.coverage_epoch for team in teams}
    ids_of = {team.id: ids for team, ids in zip(teams, members, strict=True)}
    found: dict[int, TeamFigures] = {}
    if not teams:
        return found
    rows = db.session.execute(
        select(_S.team_id, _S.epoch, _S.members, _S.valid_from, _S.valid_until, _S.figures).where(
            _S.team_id.in_(sorted(epochs)), _S.content_hash == version.content_hash
        )
    )
    for team_id, epoch, ids, valid_from, valid_until, body in rows:
        if epoch != epochs[team_id] or ids != ids_of[team_id] or body.get("format") != _FORMAT:
            continue
        if _holds(valid_from, valid_until, now):
            found[team_id] = _load(body, valid_from, valid_until)
    return found


def figures_for(
    team: Team,
    version: FrameworkVersion,
    ids: list[int],
    now: datetime,
    from_history: bool = False,
    cached: bool = True,
) -> TeamFigures:
    """The team's figures at `now`: when `cached` and not from the history (only "now" is
    kept), from the per-process cache, else the stored figures, else computed (and kept in
    the process); otherwise computed."""
    if not cached or from_history:
        return team_figures(version, ids, now, from_history=from_history)
    key = figures_key(team, version, ids)
    figures = FIGURES.get_at(key, now)
    if figures is None:
        figures = stored_figures(team, version, ids, now) or team_figures(version, ids, now)
        FIGURES.put(key, figures)
    return figures


def _holds_for(kept, epoch: int, version, ids: list[int], now: datetime) -> bool:
    """Whether `kept` (a team's stored figures) were those of the epoch before `epoch`, for
    `version` and `ids`, and still hold at `now`: then only the changed people's part
    needs working out again."""
    return (
        kept.epoch == epoch - 1
        and kept.content_hash == version.content_hash
        and kept.members == ids
        and _holds(kept.valid_from, kept.valid_until, now)
        and kept.people.get("format") == _FORMAT
    )


def _mine(rows, people: set[int]) -> list:
    return [row for row in rows if row[0] in people]


def _others(rows, people: set[int]) -> list:
    return [row for row in rows if row[0] not in people]


def keep_current(people: set[int], version: FrameworkVersion, epochs: dict[int, int]) -> None:
    """After `people`'s ratings of `version` were written and their teams' epochs moved on
    (`epochs`: each team's new epoch), in the writing transaction: queue the update of
    those teams' stored figures for after the commit (`keep_figures_task`), so that it is
    not on the supervisor's click. Until it has run, a process with a cold cache works the
    figures out (the stored ones are of an older epoch)."""
    if not epochs:
        return
    pairs = sorted(epochs.items())
    ids = sorted(people)
    version_id = version.id
    after_commit(lambda: keep_figures_task(version_id, ids, pairs))


@huey.task(retries=2, retry_delay=30)
def keep_figures_task(version_id: int, people: list[int], epochs: list[tuple[int, int]]) -> None:
    with job_app().app_context():
        try:
            version = db.session.get(FrameworkVersion, version_id)
            if version is not None:
                bring_up_to_date(set(people), version_structure(version), dict(epochs))
                db.session.commit()
        finally:
            db.session.remove()


def bring_up_to_date(people: set[int], version: FrameworkVersion, epochs: dict[int, int]) -> None:
    """Bring the stored figures of `version` of the teams in `epochs` up to date, after a
    write of `people`'s ratings that moved each team's epoch on to the value given (the
    job `keep_current` queues; the caller commits).

    Per team, with the team's epoch as it is now:
    - the stored figures are already of this epoch (another job got there first) and
      still hold: nothing to do;
    - this write made the current epoch and the stored figures are of the one before:
      only the written people's part is worked out again (their rows, once for all teams);
    - otherwise (a later write, none stored, other members, the clock past them): the
      whole team's are worked out.
    An update never replaces figures of a later epoch (jobs may run out of order). (An
    assessment begun before a newer version was loaded keeps its own version's figures,
    which no page reads; the current version's then no longer match the epoch and are
    worked out afresh, as they would be without stored figures.)"""
    now = utcnow()
    shape = version_shape(version)
    teams = db.session.execute(
        select(
            Team.id,
            Team.coverage_epoch,
            _S.team_id,
            _S.epoch,
            _S.content_hash,
            _S.members,
            _S.valid_from,
            _S.valid_until,
            _S.people,
        )
        .outerjoin(_S, _S.team_id == Team.id)
        .where(Team.id.in_(sorted(epochs)))
    ).all()
    from competency_app.coverage.services import team_counts  # noqa: PLC0415 - it imports this module

    theirs: tuple[list, list] | None = None
    connection = db.session.connection()
    for team in teams:
        ids = team_member_ids(team.id, Role.PRACTITIONER, on=now)
        kept = team.team_id is not None
        current = team.coverage_epoch
        if kept and _holds_for(team, current + 1, version, ids, now):
            continue  # already of this epoch
        if kept and epochs.get(team.id) == current and _holds_for(team, current, version, ids, now):
            tally, signoffs = _load_tally(team.people)
            changed = people & set(ids)
            if changed:
                if theirs is None:
                    theirs = _fetched(version, sorted(people), now)
                tally.remove(changed)
                signoffs = _others(signoffs, changed)
                for row in _mine(theirs[0], changed):
                    tally.add(shape, row)
                signoffs += _mine(theirs[1], changed)
        else:
            tally, signoffs = Tally(), []
            if ids:
                rows, signoffs = _fetched(version, ids, now)
                for row in rows:
                    tally.add(shape, row)
        figures = tally.figures(version, ids, now, signoffs)
        values = {
            "epoch": current,
            "content_hash": version.content_hash,
            "members": ids,
            "valid_from": now,
            "valid_until": figures.valid_until,
            "figures": _dump(figures),
            "counts": {"format": _FORMAT, **team_counts(version, ids, figures, now)},
            "people": _dump_tally(tally, signoffs),
        }
        if kept:
            connection.execute(
                update(_TABLE).where(_TABLE.c.team_id == team.id, _TABLE.c.epoch <= current),
                values,
            )
        else:
            connection.execute(_INSERT_NEW[connection.dialect.name], {"team_id": team.id, **values})


# A row another job inserted meanwhile is left to it (both work from the same epoch or
# the other's is later).
_INSERT_NEW = {
    "postgresql": postgresql.insert(_TABLE).on_conflict_do_nothing(index_elements=["team_id"]),
    "sqlite": sqlite.insert(_TABLE).on_conflict_do_nothing(index_elements=["team_id"]),
}


after_ratings_written(keep_current)
