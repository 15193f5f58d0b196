"""The team's rating aggregates as at a moment: the facts every coverage rule is judged on.

Today (and any later moment) they come from the current-rating projection: one GROUP BY per
(person, element), an index-only scan of `ix_current_rating_coverage`, that also lists
each group's held skills, from which the per-skill figures are counted in Python (cheaper
than a second scan of the same rows, grouped by skill).
A later moment simply drops the validations that will have expired by then. An earlier
moment reads the append-only history instead (the latest validation per person and skill
at that moment, a window function): slower, and only for past dates.

The figures for "now" are cached per process (`FIGURES`, through `figures_for`), keyed
by `figures_key`: the team's `coverage_epoch` (bumped by `assessments/projection.py` in
every transaction that changes a member's validated ratings), the version and the members,
and valid until the first expiry that would change a figure. The coverage charts are
cached (`charts.cached_chart`) under `chart_key`, built from the same facts and the day.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, String, and_, bindparam, case, func, select, type_coerce

from competency_app.accounts.models import Team
from competency_app.assessments.models import (
    Assessment,
    CurrentRating,
    Status,
    ValidatedRating,
    ValueReview,
    ValueReviewOutcome,
)
from competency_app.common.caches import BoundedCache, per_process_cache
from competency_app.database import UTCDateTime
from competency_app.extensions import db
from competency_app.framework.models import Element, FrameworkVersion, Skill


@dataclass(frozen=True)
class VersionShape:
    """What the coverage queries need of a version: its skill keys and skills per element."""

    skill_keys: tuple[str, ...]
    skill_counts: dict[str, int]  # element key -> skills
    element_of: dict[str, str]  # skill key -> element key
    # element key -> its skills expected of every member (`rules.expected_of_everyone`)
    everyone: dict[str, frozenset[str]] = field(default_factory=dict)

    @property
    def everyone_keys(self) -> tuple[str, ...]:
        return tuple(sorted(key for keys in self.everyone.values() for key in keys))


_SHAPES: dict[str, VersionShape] = {}
per_process_cache("version shapes", _SHAPES.clear)


def version_shape(version: FrameworkVersion) -> VersionShape:
    """Cached by content hash: a loaded version never changes, and ids can be reused."""
    shape = _SHAPES.get(version.content_hash)
    if shape is None:
        rows = db.session.execute(
            select(Skill.key, Element.key)
            .join(Element, Element.id == Skill.element_id)
            .where(Skill.version_id == version.id)
        ).all()
        counts: dict[str, int] = defaultdict(int)
        everyone: dict[str, set[str]] = defaultdict(set)
        expected = version.settings.everyone_skills
        for skill, element in rows:
            counts[element] += 1
            if skill in expected:
                everyone[element].add(skill)
        shape = VersionShape(
            tuple(skill for skill, _ in rows),
            dict(counts),
            {skill: e for skill, e in rows},
            {element: frozenset(keys) for element, keys in everyone.items()},
        )
        _SHAPES[version.content_hash] = shape
    return shape


def _when(condition, value):
    return case((condition, value), else_=None)


_COMPETENT = bindparam("competent", type_=Integer)
_NOW = bindparam("now", type_=UTCDateTime())
_HORIZON = bindparam("horizon", type_=UTCDateTime())


def _statement(source):
    """The aggregate over a rating source with columns person_id, skill_key, element_key,
    level and expires_at (the projection, or the history as at a moment).

    Per person and element: skills at competent or above, skills one level below
    (Developing), the earliest expiry among the competent ones, among all of them, among
    the competent ones that outlast the warning horizon, and among the competent ones
    expected of every member (`everyone`); and the keys of the skills
    held, and of those held beyond the horizon (comma-separated: framework ids have no
    commas), for the per-skill figures. Expiries come back as text on SQLite: only the few
    needed are parsed (`aware`).
    """
    c = source.c
    competent = c.level >= _COMPETENT
    durable = and_(competent, c.expires_at > _HORIZON)
    everyone = and_(competent, c.skill_key.in_(bindparam("everyone", expanding=True)))
    return (
        select(
            c.person_id,
            c.element_key,
            func.count(_when(competent, 1)),
            func.count(_when(c.level < _COMPETENT, 1)),
            type_coerce(func.min(_when(competent, c.expires_at)), String),
            type_coerce(func.min(c.expires_at), String),
            type_coerce(func.min(_when(durable, c.expires_at)), String),
            type_coerce(func.min(_when(everyone, c.expires_at)), String),
            func.aggregate_strings(_when(competent, c.skill_key), ","),
            func.aggregate_strings(_when(durable, c.skill_key), ","),
        )
        .where(
            c.person_id.in_(bindparam("ids", expanding=True)),
            c.skill_key.in_(bindparam("keys", expanding=True)),
            c.level >= _COMPETENT - 1,
            c.expires_at > _NOW,
        )
        .group_by(c.person_id, c.element_key)
    )


# Built once. The projection already holds each person's latest validation per skill.
_CURRENT = _statement(CurrentRating.__table__)

# The history as at `now`: each person's latest validation of each of the version's skills.
_RANKED = (
    select(
        ValidatedRating.person_id,
        ValidatedRating.skill_key,
        ValidatedRating.level,
        ValidatedRating.expires_at,
        func.row_number()
        .over(
            partition_by=(ValidatedRating.person_id, ValidatedRating.skill_key),
            order_by=(ValidatedRating.validated_at.desc(), ValidatedRating.id.desc()),
        )
        .label("position"),
    )
    .where(
        ValidatedRating.person_id.in_(bindparam("ids", expanding=True)),
        ValidatedRating.validated_at <= _NOW,
    )
    .subquery()
)
_LATEST = (
    select(
        _RANKED.c.person_id,
        _RANKED.c.skill_key,
        Element.key.label("element_key"),
        _RANKED.c.level,
        _RANKED.c.expires_at,
    )
    .join(
        Skill,
        and_(
            Skill.key == _RANKED.c.skill_key,
            Skill.version_id == bindparam("version_id", type_=Integer),
        ),
    )
    .join(Element, Element.id == Skill.element_id)
    .where(_RANKED.c.position == 1)
    .subquery()
)
_HISTORY = _statement(_LATEST)


def aware(value) -> datetime:
    """SQLite hands aggregates back as naive text: normalise to aware UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


_aware = aware  # the older name, kept for callers


@dataclass
class SkillFigures:
    holders: int
    durable: int  # holders whose validation outlasts the warning horizon
    first_holder: int  # lowest holder id (the holder, when there is one)
    last_holder: int


@dataclass
class TeamFigures:
    """The team's rating aggregates at one moment: plain data, cached between requests."""

    competent: dict[str, dict[int, int]]  # element key -> person -> competent skills
    developing: dict[str, dict[int, int]]  # element key -> person -> Developing skills
    holder_expiry: dict[str, dict[int, datetime]]  # element key -> holder -> earliest expiry
    skills: dict[str, SkillFigures]
    values_met: dict[int, datetime]  # person -> when their values sign-off lapses
    valid_from: datetime
    valid_until: datetime | None = None  # the next moment a figure would change
    from_history: bool = False
    lapses: list[datetime] = field(default_factory=list)
    # element key -> member holding every skill of it expected of everyone -> earliest of
    # those expiries (only elements with skills expected of everyone)
    everyone_expiry: dict[str, dict[int, datetime]] = field(
        default_factory=lambda: defaultdict(dict)
    )

    @property
    def skill_holders(self) -> dict[str, int]:
        return {key: s.holders for key, s in self.skills.items()}


def _value_signoffs(person_ids: list[int], until: datetime, since: datetime | None = None):
    """(person, validated at, values evidenced) of every validated assessment of these
    people validated in (`since`, `until`]: the supervisor's review of each core-value
    reflection, counted where it says evidenced (an assessment without one counts 0)."""
    statement = (
        select(Assessment.person_id, Assessment.validated_at, func.count(ValueReview.id))
        .outerjoin(
            ValueReview,
            and_(
                ValueReview.assessment_id == Assessment.id,
                ValueReview.outcome == ValueReviewOutcome.EVIDENCED,
            ),
        )
        .where(
            Assessment.person_id.in_(person_ids),
            Assessment.status == Status.VALIDATED,
            Assessment.validated_at <= until,
        )
        .group_by(Assessment.person_id, Assessment.id, Assessment.validated_at)
    )
    if since is not None:
        statement = statement.where(Assessment.validated_at > since)
    return db.session.execute(statement)


def _values_met(version: FrameworkVersion, signoffs, members, now: datetime) -> dict:
    """Person -> when their values sign-off lapses: met when the review of their latest
    validation at `now` (still in date) says evidenced for every core value. A later
    validation whose review asks to discuss a value further replaces an earlier sign-off."""
    validity = version.settings.validity
    needed = len(version.values)
    latest: dict[int, tuple[datetime, int]] = {}
    for person, validated, evidenced in signoffs:
        validated = aware(validated)
        if person not in members or validated > now:
            continue
        if person not in latest or (validated, evidenced) > latest[person]:
            latest[person] = (validated, evidenced)
    met: dict[int, datetime] = {}
    for person, (validated, evidenced) in latest.items():
        lapse = validity.valid_until(validated)
        if needed and evidenced >= needed and lapse > now:
            met[person] = lapse
    return met


def _empty_figures(now: datetime, from_history: bool) -> TeamFigures:
    return TeamFigures(
        defaultdict(dict), defaultdict(dict), defaultdict(dict), {}, {}, now, None, from_history
    )


def _add_person_element(
    figures, shape, person, key, held, developing, held_expiry, everyone, everyone_expiry
) -> None:
    """One person's standing on one element: skills held, skills developing, whether they
    hold every skill of it (then until the earliest of those validations expires), and
    whether they hold every skill of it expected of everyone (`everyone` of them held)."""
    if held:
        figures.competent[key][person] = held
    if developing:
        figures.developing[key][person] = developing
    if held and held == shape.skill_counts.get(key):
        figures.holder_expiry[key][person] = held_expiry
    expected = shape.everyone.get(key)
    if expected and everyone == len(expected):
        figures.everyone_expiry[key][person] = everyone_expiry


def _finish(figures, values_met, lapses, warning, now) -> TeamFigures:
    """Add the values sign-offs and work out until when these figures hold: the next expiry,
    or the next moment something enters the warning period."""
    figures.values_met = values_met
    for lapse in values_met.values():
        lapses.append(lapse)
        if lapse - warning > now:
            lapses.append(lapse - warning)
    figures.valid_until = min((moment for moment in lapses if moment > now), default=None)
    return figures


def fetch(version: FrameworkVersion, ids: list[int], now: datetime, from_history: bool = False):
    """What these people's figures at `now` are worked out from: the rows of the aggregate
    (`_statement`) and their values sign-offs (two statements)."""
    shape = version_shape(version)
    params = {
        "ids": ids,
        "keys": shape.skill_keys,
        # never an empty list: an IN of nothing is written differently by each dialect
        "everyone": shape.everyone_keys or ("",),
        "competent": version.settings.scale.competent_level,
        "now": now,
        "horizon": now + version.settings.expiring_soon,
    }
    if from_history:
        params["version_id"] = version.id
    rows = db.session.connection().execute(_HISTORY if from_history else _CURRENT, params).all()
    since = version.settings.validity.earliest_valid(now)
    return rows, _value_signoffs(ids, now, since=since).all()


@dataclass
class Tally:
    """The figures added up person by person from the aggregate's rows: what `from_rows`
    builds, and what the stored figures keep (`coverage/stored.py`) so that a sign-off
    takes one person's part out and puts the new one in (`remove`, `add`) without going
    over the others'. Expiries stay raw (text on SQLite, sortable) until they are needed:
    parsing every row's expiries cost more than the query."""

    competent: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))
    developing: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))
    # element -> person holding every skill of it -> earliest of those expiries (raw)
    whole: dict[str, dict[int, Any]] = field(default_factory=lambda: defaultdict(dict))
    holders: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    durable: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    # person -> [earliest expiry, earliest expiry beyond the warning horizon] (raw)
    changes: dict[int, list] = field(default_factory=dict)
    # element -> person holding every skill of it expected of everyone -> earliest (raw)
    everyone: dict[str, dict[int, Any]] = field(default_factory=lambda: defaultdict(dict))

    def add(self, shape: VersionShape, row) -> None:
        """One row of the aggregate: a person's standing on an element."""
        person, key, held, developing, held_expiry, expiry, durable, everyone, *kept = row
        keys, durable_keys = kept
        change = self.changes.setdefault(person, [None, None])
        if change[0] is None or expiry < change[0]:
            change[0] = expiry
        if durable is not None and (change[1] is None or durable < change[1]):
            change[1] = durable
        if held:
            self.competent[key][person] = held
            if held == shape.skill_counts.get(key):
                self.whole[key][person] = held_expiry
        if developing:
            self.developing[key][person] = developing
        if keys:
            held_keys = keys.split(",")
            for skill in held_keys:
                self.holders[skill].append(person)
            expected = shape.everyone.get(key)
            if expected and expected <= set(held_keys):
                self.everyone[key][person] = everyone
        if durable_keys:
            for skill in durable_keys.split(","):
                self.durable[skill].append(person)

    def remove(self, people: set[int]) -> None:
        """Take these people's part out."""
        for by_person in (*self.competent.values(), *self.developing.values()):
            for person in people:
                by_person.pop(person, None)
        for expiries in (*self.whole.values(), *self.everyone.values()):
            for person in people:
                expiries.pop(person, None)
        for lists in (self.holders, self.durable):
            for skill, who in lists.items():
                lists[skill] = [p for p in who if p not in people]
        for person in people:
            self.changes.pop(person, None)

    def figures(
        self,
        version: FrameworkVersion,
        ids: list[int],
        now: datetime,
        signoffs,
        from_history: bool = False,
    ) -> TeamFigures:
        """The figures at `now`, the values sign-offs of `ids` (`fetch`'s) added, and until
        when they hold."""
        warning = version.settings.expiring_soon
        figures = _empty_figures(now, from_history)
        figures.competent.update({k: v for k, v in self.competent.items() if v})
        figures.developing.update({k: v for k, v in self.developing.items() if v})
        figures.holder_expiry.update(
            {k: {p: aware(t) for p, t in v.items()} for k, v in self.whole.items() if v}
        )
        figures.everyone_expiry.update(
            {k: {p: aware(t) for p, t in v.items()} for k, v in self.everyone.items() if v}
        )
        for skill, people in self.holders.items():
            if people:
                durable = len(self.durable.get(skill, ()))
                figures.skills[skill] = SkillFigures(len(people), durable, min(people), max(people))
        expiries = [c[0] for c in self.changes.values() if c[0] is not None]
        durables = [c[1] for c in self.changes.values() if c[1] is not None]
        lapses: list[datetime] = []
        if expiries:
            lapses.append(aware(min(expiries)))
        if durables:  # from then on the earliest of them is "expiring soon"
            lapses.append(aware(min(durables)) - warning)
        values_met = _values_met(version, signoffs, set(ids), now)
        return _finish(figures, values_met, lapses, warning, now)


def from_rows(
    version: FrameworkVersion,
    ids: list[int],
    now: datetime,
    rows,
    signoffs,
    from_history: bool = False,
) -> TeamFigures:
    """The figures of these people at `now` from `fetch`'s rows and sign-offs."""
    tally = Tally()
    shape = version_shape(version)
    for row in rows:
        tally.add(shape, row)
    return tally.figures(version, ids, now, signoffs, from_history)


def team_figures(
    version: FrameworkVersion, ids: list[int], now: datetime, from_history: bool = False
) -> TeamFigures:
    """The aggregates for these people at `now` (no cache): from the projection, or from
    the rating history when `from_history` (for moments in the past)."""
    if not ids:
        return _empty_figures(now, from_history)
    rows, signoffs = fetch(version, ids, now, from_history)
    return from_rows(version, ids, now, rows, signoffs, from_history)


class FiguresCache(BoundedCache[TeamFigures]):
    """Per-process LRU of team figures, keyed by the team's coverage epoch and members.

    An entry is reused while the team's `coverage_epoch` is unchanged (every validation
    bumps it in the same transaction), the members are the same people, and the clock is
    between when it was computed and the first expiry that would change a figure.
    """

    def __init__(self, size: int = 512):
        super().__init__(size)

    def get_at(self, key: tuple, now: datetime) -> TeamFigures | None:
        """The entry, if the clock is within the moments it holds for (else it is dropped)."""
        with self.lock:
            figures = self.entries.get(key)
            if figures is None:
                return None
            if now < figures.valid_from or (figures.valid_until and now >= figures.valid_until):
                del self.entries[key]
                return None
            self.entries.move_to_end(key)
            return figures


FIGURES = FiguresCache()
per_process_cache("coverage figures", FIGURES.clear)


def figures_key(team: Team, version: FrameworkVersion, ids: list[int]) -> tuple:
    """What the team's figures for "now" depend on, apart from the clock."""
    return (team.id, team.coverage_epoch, version.id, version.content_hash, tuple(ids))


def chart_key(kind: str, team: Team, version: FrameworkVersion, ids: list[int], now) -> tuple:
    """The key a team's coverage chart is cached under: it changes when a member's
    validated ratings change (the epoch), the members change, or the day changes (expiries)."""
    return (kind, team.id, version.id, team.coverage_epoch, tuple(ids), now.date().isoformat())


# ---- the figures at many moments, from one read of the history -------------------------


def figures_over_time(
    version: FrameworkVersion, members: list[list[int]], moments: list[datetime]
) -> list[TeamFigures]:
    """The history's figures at each of `moments` (ascending) for the people in the matching
    list of `members`: the same figures as `team_figures(version, ids, moment,
    from_history=True)` per moment, from one statement over the rating history and one over
    the value sign-offs, stepped through in time order in Python."""
    if not moments:
        return []
    everyone = sorted({person for ids in members for person in ids})
    last = moments[-1]
    history: list = []
    signoffs: list = []
    if everyone:
        history = list(
            db.session.execute(
                select(
                    ValidatedRating.person_id,
                    ValidatedRating.skill_key,
                    ValidatedRating.level,
                    ValidatedRating.validated_at,
                    ValidatedRating.expires_at,
                )
                .where(
                    ValidatedRating.person_id.in_(everyone),
                    ValidatedRating.validated_at <= last,
                )
                .order_by(ValidatedRating.validated_at, ValidatedRating.id)
            )
        )
        signoffs = list(_value_signoffs(everyone, last))
    element_of = version_shape(version).element_of
    latest: dict[tuple[int, str], tuple[int, datetime]] = {}
    position = 0
    result = []
    for ids, now in zip(members, moments, strict=True):
        while position < len(history) and aware(history[position].validated_at) <= now:
            row = history[position]
            if row.skill_key in element_of:
                latest[(row.person_id, row.skill_key)] = (row.level, aware(row.expires_at))
            position += 1
        result.append(_figures_from(version, ids, now, latest, element_of, signoffs))
    return result


def _figures_from(version, ids, now, latest, element_of, signoffs) -> TeamFigures:
    """`team_figures`' aggregates computed in Python over each person's latest validation
    per skill as at `now` (`latest`)."""
    competent = version.settings.scale.competent_level
    warning = version.settings.expiring_soon
    horizon = now + warning
    shape = version_shape(version)
    figures = _empty_figures(now, True)
    if not ids:
        return figures
    members = set(ids)
    # per (person, element): held, developing, earliest expiries (held, any, held and
    # durable), held of those expected of everyone and the earliest of their expiries
    groups: dict[tuple[int, str], list] = {}
    expected = set(shape.everyone_keys)
    skills: dict[str, list] = {}
    for (person, skill), (level, expires) in latest.items():
        if person not in members or level < competent - 1 or expires <= now:
            continue
        group = groups.setdefault((person, element_of[skill]), [0, 0, None, None, None, 0, None])
        group[3] = expires if group[3] is None else min(group[3], expires)
        if level >= competent:
            group[0] += 1
            group[2] = expires if group[2] is None else min(group[2], expires)
            if expires > horizon:
                group[4] = expires if group[4] is None else min(group[4], expires)
            if skill in expected:
                group[5] += 1
                group[6] = expires if group[6] is None else min(group[6], expires)
            held = skills.setdefault(skill, [0, 0, person, person])
            held[0] += 1
            held[1] += expires > horizon
            held[2], held[3] = min(held[2], person), max(held[3], person)
        else:
            group[1] += 1
    lapses: list[datetime] = []
    for (person, key), (held, developing, held_expiry, expiry, durable, *every) in groups.items():
        if durable is not None:
            lapses.append(durable - warning)
        lapses.append(expiry)
        _add_person_element(figures, shape, person, key, held, developing, held_expiry, *every)
    for key, (holders, durable_holders, first, last) in skills.items():
        figures.skills[key] = SkillFigures(holders, durable_holders, first, last)
    values_met = _values_met(version, signoffs, members, now)
    return _finish(figures, values_met, lapses, warning, now)


# ---- many teams' figures for "now", from one statement -----------------------------------


def figures_for_teams(
    version: FrameworkVersion, teams: list[list[int]], now: datetime
) -> list[TeamFigures]:
    """`team_figures(version, ids, now)` for each list of member ids in `teams` (no cache),
    from one run of the same aggregate over all their people and one read of their value
    sign-offs, split by team in Python (`from_rows`). A person in two teams counts in both.
    The caller bounds the people per call (the IN list and the rows held at once)."""
    everyone = sorted({person for ids in teams for person in ids})
    if not everyone:
        return [_empty_figures(now, False) for _ in teams]
    rows, signoffs = fetch(version, everyone, now)
    rows_of: dict[int, list] = defaultdict(list)
    for row in rows:
        rows_of[row[0]].append(row)
    signoffs_of: dict[int, list] = defaultdict(list)
    for signoff in signoffs:
        signoffs_of[signoff[0]].append(signoff)
    result = []
    for ids in teams:
        people = sorted(set(ids))
        team_rows = [row for person in people for row in rows_of.get(person, ())]
        team_signoffs = [row for person in people for row in signoffs_of.get(person, ())]
        result.append(from_rows(version, ids, now, team_rows, team_signoffs))
    return result
