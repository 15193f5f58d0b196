"""A collaborative's figures for its regional lead: per organisation and per team, in numbers.

Everything here is a count. No person's name, rating or reflection leaves this module: the
members a team's coverage is judged over are ids only (`Member`), and the skills are counted
by holders per team, never named by holder.

- **Coverage** per team (elements met, at risk, gap) in counts, as the job that keeps each
  team's *stored* figures (`coverage/stored.py`) judged them with `coverage.services.judge`
  (the one computation) and stored them beside the figures (`team_counts`): read for every
  team of the collaborative in one statement a chunk of teams, with nothing judged here.
  A team whose stored figures are not current (another epoch, other members, another
  version, or past the moment they hold until) is worked out live, a batch of teams at a
  time (`figures_for_teams`), as the organisation workbook does; figures stored before the
  counts were are read and judged here.
- **Practitioners** are counted once across the collaborative, however many teams they are
  in (and each team counts its own).
- **Required training** per team and overall (each person once), from one reading of the
  completions a chunk at a time, judged by `training.required.judge_item`.
- **Vacancies** not closed, by stage, per team: one GROUP BY.
- **Skills held by too few**: a skill whose distinct holders across the collaborative are
  fewer than its element's `min_holders` × the number of teams with keyworkers (what every
  team holding it by the rule would need, if nobody were in two teams). The distinct
  holders are the teams' holders added up, less the repeats of the people in more than
  one team (their ratings read alone), so no statement grows with the region's ratings.
  For each skill, the teams that hold it and their number of holders, so a manager with a
  gap can find whom to ask.
- **Forecast**: each team's element gaps and elements at risk today and in 30, 60 and 90
  days (the same judgement at those moments: what expires, who leaves), kept per process
  for the day while no team's figures or members change.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, and_, func, select

from competency_app.accounts import scope
from competency_app.accounts.models import (
    Collaborative,
    Organisation,
    Role,
    RoleAssignment,
    Team,
    User,
)
from competency_app.accounts.services import counted_on
from competency_app.assessments.models import CurrentRating
from competency_app.common.caches import BoundedCache, per_process_cache
from competency_app.common.dates import london_day
from competency_app.coverage import stored
from competency_app.coverage.figures import TeamFigures, figures_for_teams
from competency_app.coverage.models import StoredTeamFigures
from competency_app.coverage.services import AT_RISK, GAP, Member, TeamCoverage, judge, team_counts
from competency_app.database import chunks
from competency_app.extensions import db
from competency_app.framework.models import Element, FrameworkVersion, Skill
from competency_app.recruitment.models import STATE_LABELS, STATES, Vacancy
from competency_app.training import required as training
from competency_app.training.models import ModuleCompletion

FORECAST_DAYS = (30, 60, 90)
OPEN_STATES = tuple(state for state in STATES if state != "closed")
BATCH_PEOPLE = 500  # people whose live figures are worked out together
_S = StoredTeamFigures
_STORED_TABLE = cast(Table, StoredTeamFigures.__table__)


def lead_collaborative(user: User) -> Collaborative | None:
    """The collaborative whose figures `user` sees as its regional lead, if any."""
    ids = scope.lead_collaborative_ids(user)
    if not ids:
        return None
    return db.session.get(Collaborative, min(ids))


def is_regional_lead(user, **_kwargs) -> bool:
    """The access rule of every regional page, the API endpoint and the workbook."""
    return bool(scope.lead_collaborative_ids(user))


# ---- the figures -------------------------------------------------------------------------


@dataclass
class TrainingFigures:
    people: int = 0
    required: int = 0  # (person, required item) pairs
    compliant: int = 0  # of those, in date or expiring
    fully_compliant: int = 0  # people in date on every required item

    @property
    def percent(self) -> int:
        return training._percent(self.compliant, self.required)


@dataclass
class TeamRow:
    team: Team
    organisation: Organisation
    members: int
    elements: int
    met: int
    at_risk: int
    gaps: int
    values: str  # met / at_risk / gap
    skill_gaps: int
    from_stored: bool
    training: TrainingFigures
    vacancies: dict[str, int]  # stage -> vacancies not closed

    @property
    def open_vacancies(self) -> int:
        return sum(self.vacancies.values())


@dataclass
class OrganisationRow:
    organisation: Organisation
    teams: list[TeamRow]
    practitioners: int  # counted once however many of its teams they are in

    def total(self, name: str) -> int:
        return sum(getattr(row, name) for row in self.teams)


@dataclass
class TeamHolding:
    team: Team
    holders: int


@dataclass
class SkillSpread:
    skill: Skill
    element: Element
    min_holders: int
    needed: int  # min_holders × teams
    holders: int  # distinct people across the collaborative
    teams: list[TeamHolding] = field(default_factory=list)  # most holders first

    @property
    def too_few(self) -> bool:
        return self.holders < self.needed


@dataclass
class Regional:
    collaborative: Collaborative
    version: FrameworkVersion
    now: datetime
    organisations: list[OrganisationRow]
    practitioners: int
    training: TrainingFigures
    skills: list[SkillSpread]
    teams_counted: int  # teams with keyworkers (the multiplier of the skills rule)

    @property
    def teams(self) -> list[TeamRow]:
        return [row for org in self.organisations for row in org.teams]

    @property
    def too_few(self) -> list[SkillSpread]:
        return [s for s in self.skills if s.too_few]

    @property
    def stored_teams(self) -> int:
        return sum(1 for row in self.teams if row.from_stored)

    def total(self, name: str) -> int:
        return sum(getattr(row, name) for row in self.teams)

    def vacancies_by_stage(self) -> dict[str, int]:
        totals: Counter[str] = Counter()
        for row in self.teams:
            totals.update(row.vacancies)
        return {state: totals[state] for state in OPEN_STATES if totals[state]}

    def skill(self, key: str) -> SkillSpread | None:
        return next((s for s in self.skills if s.skill.key == key), None)


def rule_sentence(regional: Regional) -> str:
    return (
        "A skill is held by too few when fewer people across the collaborative hold it "
        "(validated at competent or above, in date; each person once, however many teams "
        "they are in) than its element's number needed in a team times the "
        f"{regional.teams_counted} teams with keyworkers."
    )


def collaborative_teams(collaborative_id: int) -> list[tuple[Team, Organisation]]:
    """Every team hosted by an organisation of the collaborative, by organisation and name."""
    return [
        (team, organisation)
        for team, organisation in db.session.execute(
            select(Team, Organisation)
            .join(Organisation, Organisation.id == Team.organisation_id)
            .where(Organisation.collaborative_id == collaborative_id)
            .order_by(Organisation.name, Team.name, Team.id)
        )
    ]


def _members(team_ids: list[int], now: datetime) -> dict[int, list[int]]:
    """Team id -> its keyworkers' ids counted at `now`, in the coverage page's order (by
    name, then id: the order the stored figures keep), without reading a name."""
    members: dict[int, list[int]] = {team_id: [] for team_id in team_ids}
    for chunk in chunks(team_ids, 900):
        rows = db.session.execute(
            select(RoleAssignment.team_id, User.id)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(
                RoleAssignment.team_id.in_(chunk),
                RoleAssignment.role == Role.PRACTITIONER,
                User.active,
                counted_on(now.date()),
            )
            .order_by(RoleAssignment.team_id, User.name, User.id)
        )
        for team_id, person in rows:
            if team_id is not None:
                members[team_id].append(person)
    return members


def _stored(version: FrameworkVersion, team_ids: list[int], members, now) -> tuple[dict, dict]:
    """For the teams whose stored figures are current (the checks of
    `stored.stored_figures`): (team id -> its counts as stored with them, already judged;
    team id -> its stored figures, for rows kept before counts were stored beside them),
    from one statement per chunk of teams reading only the counts column (not the figures'
    JSON, which the database would read whole), then, for rows without counts, one reading
    only the parts of the figures a judgement needs (not each member's skill counts)."""
    counted: dict[int, JudgedTeam] = {}
    uncounted: list[int] = []
    for chunk in chunks(team_ids, 900):
        for team_id, ids, valid_from, valid_until, counts in _current_rows(
            version, chunk, [_S.counts]
        ):
            if ids != members[team_id] or not stored._holds(valid_from, valid_until, now):
                continue
            if counts is None or counts.get("format") != stored._FORMAT:
                uncounted.append(team_id)  # stored before counts were: judged from the figures
                continue
            counted[team_id] = _counted(counts, valid_from, valid_until, from_stored=True)
    whole = version.settings.coverage_rule == "whole_element"
    parts = ["format", "skills", "values", "everyone"] + (["holder_expiry"] if whole else [])
    found: dict[int, TeamFigures] = {}
    for chunk in chunks(uncounted, 900):
        rows = _current_rows(version, chunk, [_S.figures[part] for part in parts])
        for team_id, _ids, valid_from, valid_until, *values in rows:
            body = dict(zip(parts, values, strict=True))
            if body["format"] != stored._FORMAT:
                continue
            body.setdefault("holder_expiry", {})
            body.update(competent={}, developing={})
            found[team_id] = stored._load(body, valid_from, valid_until)
    return counted, found


def _current_rows(version: FrameworkVersion, team_ids: list[int], parts: list):
    """(team id, members, valid from, valid until, *parts) of these teams' stored figures of
    `version` and of their current epoch."""
    return db.session.execute(
        select(_S.team_id, _S.members, _S.valid_from, _S.valid_until, *parts)
        .join(Team, and_(Team.id == _S.team_id, Team.coverage_epoch == _S.epoch))
        .where(_S.team_id.in_(team_ids), _S.content_hash == version.content_hash)
    ).all()


def _live(version: FrameworkVersion, team_ids: list[int], members, now) -> dict:
    """Team id -> its figures worked out now, a batch of teams at a time."""
    found: dict[int, TeamFigures] = {}
    batches: list[list[int]] = []
    people = 0
    for team_id in team_ids:
        size = len(members[team_id])
        if not batches or people + size > BATCH_PEOPLE:
            batches.append([])
            people = 0
        batches[-1].append(team_id)
        people += size
    for batch in batches:
        figures = figures_for_teams(version, [members[t] for t in batch], now)
        found.update(zip(batch, figures, strict=True))
    return found


def judged(team: Team, version, ids: list[int], figures: TeamFigures, now) -> TeamCoverage:
    return judge(team, version, cast(list[User], [Member(i) for i in ids]), figures, now)


@dataclass(frozen=True)
class JudgedTeam:
    """A team's coverage in counts, and the moments they hold between."""

    members: int
    elements: int
    met: int
    at_risk: int
    gaps: int
    values: str
    skill_gaps: int
    holders: dict[str, int]  # skill key -> holders, skills held only
    from_stored: bool
    valid_from: datetime
    valid_until: datetime | None

    def holds_at(self, now: datetime) -> bool:
        return self.valid_from <= now and (self.valid_until is None or now < self.valid_until)


# Per process, as the team figures are (`figures.FIGURES`): a team's counts are reused while
# its epoch, its members and the version are the same and the clock is within the moments
# its figures hold between.
_JUDGED: BoundedCache[JudgedTeam] = BoundedCache(8192)
per_process_cache("regional team counts", _JUDGED.clear)


def _counted(counts: dict, valid_from, valid_until, from_stored: bool) -> JudgedTeam:
    """A team's `team_counts` (judged now, or as stored) and the moments they hold between."""
    return JudgedTeam(
        **{name: counts[name] for name in _COUNTS},
        from_stored=from_stored,
        valid_from=valid_from,
        valid_until=valid_until,
    )


_COUNTS = ("members", "elements", "met", "at_risk", "gaps", "values", "skill_gaps", "holders")


def _judged_teams(pairs, version: FrameworkVersion, members, now) -> dict[int, JudgedTeam]:
    """Team id -> its coverage in counts at `now`: kept in this process, else judged from
    the stored figures, else from figures worked out live."""
    found: dict[int, JudgedTeam] = {}
    keys = {
        team.id: (team.id, team.coverage_epoch, version.content_hash, tuple(members[team.id]))
        for team, _ in pairs
    }
    for team, _ in pairs:
        kept = _JUDGED.get(keys[team.id])
        if kept is not None and kept.holds_at(now):
            found[team.id] = kept
    missing = [team.id for team, _ in pairs if team.id not in found]
    counted, figures = _stored(version, missing, members, now)
    from_stored = set(counted) | set(figures)
    figures.update(_live(version, [t for t in missing if t not in from_stored], members, now))
    for team, _ in pairs:
        if team.id in found:
            continue
        if team.id in counted:
            found[team.id] = counted[team.id]
        else:
            team_figures = figures[team.id]
            counts = team_counts(version, members[team.id], team_figures, now)
            found[team.id] = _counted(
                counts, team_figures.valid_from, team_figures.valid_until, team.id in from_stored
            )
        _JUDGED.put(keys[team.id], found[team.id])
    return found


def _collaborative_people(team_ids: list[int], now: datetime):
    """SELECT of the distinct keyworkers counted at `now` in these teams."""
    return (
        select(User.id)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(
            RoleAssignment.team_id.in_(team_ids or [-1]),
            RoleAssignment.role == Role.PRACTITIONER,
            User.active,
            counted_on(now.date()),
        )
        .distinct()
    )


def _distinct_holders(team_ids: list[int], members, coverage, version, now) -> dict[str, int]:
    """Skill key -> the distinct people across these teams who hold it now: the teams'
    holders added up (from their counts, as judged or stored), less the repeats of the
    people counted in more than one of the teams, read for those people alone (a handful:
    a GROUP BY over every rating of the collaborative grows with the region)."""
    totals: Counter[str] = Counter()
    for team_id in team_ids:
        totals.update(coverage[team_id].holders)
    seen = Counter(person for team_id in team_ids for person in members[team_id])
    repeats = {person: times - 1 for person, times in seen.items() if times > 1}
    competent = version.settings.scale.competent_level
    for chunk in chunks(sorted(repeats), 900):
        for person, key in db.session.execute(
            select(CurrentRating.person_id, CurrentRating.skill_key).where(
                CurrentRating.person_id.in_(chunk),
                CurrentRating.level >= competent,
                CurrentRating.expires_at > now,
            )
        ):
            if key in totals:
                totals[key] -= repeats[person]
    return {key: count for key, count in totals.items() if count > 0}


def _latest_completions(team_ids: list[int], keys: list[str], today, now) -> dict:
    """`training.latest_completions` of every keyworker of these teams, from one grouped
    statement over them (a subquery, not a list of ids)."""
    if not keys:
        return {}
    rows = db.session.execute(
        select(
            ModuleCompletion.person_id,
            ModuleCompletion.module_key,
            func.max(ModuleCompletion.completed_on),
        )
        .where(
            ModuleCompletion.person_id.in_(_collaborative_people(team_ids, now)),
            ModuleCompletion.module_key.in_(keys),
            ModuleCompletion.completed_on <= training.counted_until(today),
        )
        .group_by(ModuleCompletion.person_id, ModuleCompletion.module_key)
    )
    return {(person, key): day for person, key, day in rows}


def _training(version: FrameworkVersion, members: dict[int, list[int]], now) -> tuple:
    """(team id -> its figures, the collaborative's with each person once)."""
    today = london_day(now)
    modules = training.required_modules(version)
    items = [(module, training.parts_of(module, version)) for module in modules]
    window = version.settings.expiring_soon_days
    everyone = sorted({person for ids in members.values() for person in ids})
    standing: dict[int, tuple[int, bool]] = {}  # person -> (items compliant, all of them)
    keys = training.required_keys(version)
    # An item's standing depends only on its parts' latest completion dates: judged once
    # for each set of dates met (most people share theirs, or have none).
    judged_as: dict[tuple, bool] = {}
    latest = _latest_completions(list(members), keys, today, now)
    # Everyone who has completed none of the required modules stands the same: judged once.
    nobody = -1  # an id no completion is read for
    none_done = sum(
        training.judge_item(nobody, module, parts, {}, today, window)[2] in training.COMPLIANT
        for module, parts in items
    )
    nothing = (none_done, none_done == len(items))
    someone = {person for person, _key in latest}
    for person in everyone:
        if person not in someone:
            standing[person] = nothing
            continue
        compliant = 0
        for module, parts in items:
            key = (module.key, *(latest.get((person, part.key)) for part in parts))
            ok = judged_as.get(key)
            if ok is None:
                status = training.judge_item(person, module, parts, latest, today, window)[2]
                ok = judged_as[key] = status in training.COMPLIANT
            compliant += ok
        standing[person] = (compliant, compliant == len(items))

    def figures(ids) -> TrainingFigures:
        result = TrainingFigures(people=len(ids), required=len(ids) * len(items))
        for person in ids:
            compliant, fully = standing[person]
            result.compliant += compliant
            result.fully_compliant += fully
        return result

    by_team = {team_id: figures(set(ids)) for team_id, ids in members.items()}
    return by_team, figures(everyone)


def _vacancies(team_ids: list[int]) -> dict[int, dict[str, int]]:
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for chunk in chunks(team_ids, 900):
        for team_id, state, count in db.session.execute(
            select(Vacancy.team_id, Vacancy.state, func.count())
            .where(Vacancy.team_id.in_(chunk), Vacancy.state.in_(OPEN_STATES))
            .group_by(Vacancy.team_id, Vacancy.state)
        ):
            found[team_id][state] = count
    return found


def regional_figures(collaborative: Collaborative, version: FrameworkVersion, now) -> Regional:
    """Every figure of the regional view for `collaborative` at `now`."""
    pairs = collaborative_teams(collaborative.id)
    team_ids = [team.id for team, _ in pairs]
    members = _members(team_ids, now)
    coverage = _judged_teams(pairs, version, members, now)
    by_team_training, overall_training = _training(version, members, now)
    vacancies = _vacancies(team_ids)
    rows: dict[int, list[TeamRow]] = defaultdict(list)
    holdings: dict[str, list[TeamHolding]] = defaultdict(list)
    organisations = {org.id: org for _, org in pairs}
    for team, organisation in pairs:
        judged_team = coverage[team.id]
        rows[organisation.id].append(
            TeamRow(
                team=team,
                organisation=organisation,
                members=judged_team.members,
                elements=judged_team.elements,
                met=judged_team.met,
                at_risk=judged_team.at_risk,
                gaps=judged_team.gaps,
                values=judged_team.values,
                skill_gaps=judged_team.skill_gaps,
                from_stored=judged_team.from_stored,
                training=by_team_training[team.id],
                vacancies=dict(vacancies.get(team.id, {})),
            )
        )
        for key, holders in judged_team.holders.items():
            holdings[key].append(TeamHolding(team, holders))
    counted = [t for t in team_ids if members[t]]
    distinct = _distinct_holders(counted, members, coverage, version, now)
    skills = []
    for competency in version.competencies:
        for element in competency.elements:
            for skill in element.skills:
                spread = SkillSpread(
                    skill,
                    element,
                    element.min_holders,
                    element.min_holders * len(counted),
                    distinct.get(skill.key, 0),
                    sorted(holdings[skill.key], key=lambda h: (-h.holders, h.team.name)),
                )
                skills.append(spread)
    org_rows = []
    for org_id in sorted(organisations, key=lambda o: organisations[o].name):
        people = {p for row in rows[org_id] for p in members[row.team.id]}
        org_rows.append(OrganisationRow(organisations[org_id], rows[org_id], len(people)))
    # organisations of the collaborative that host no team yet
    for organisation in scope.organisations_in_collaborative(collaborative.id):
        if organisation.id not in organisations:
            org_rows.append(OrganisationRow(organisation, [], 0))
    return Regional(
        collaborative,
        version,
        now,
        org_rows,
        len({p for ids in members.values() for p in ids}),
        overall_training,
        skills,
        len(counted),
    )


# ---- the forecast --------------------------------------------------------------------------


@dataclass
class ForecastRow:
    team: Team
    organisation: Organisation
    gaps: list[int]  # element gaps today, then at each of FORECAST_DAYS
    at_risk: list[int]


@dataclass
class Forecast:
    now: datetime
    days: tuple[int, ...]
    rows: list[ForecastRow]

    def totals(self, name: str) -> list[int]:
        columns = len(self.days) + 1
        return [sum(getattr(row, name)[i] for row in self.rows) for i in range(columns)]

    @property
    def moments(self) -> list[datetime]:
        return [self.now + timedelta(days=d) for d in self.days]


_FORECASTS: BoundedCache[Forecast] = BoundedCache(16)
per_process_cache("regional forecasts", _FORECASTS.clear)


def regional_forecast(collaborative: Collaborative, version: FrameworkVersion, now) -> Forecast:
    """Each team's element gaps and elements at risk today and in 30, 60 and 90 days: the
    judgement at each moment over the members still there then (today's as the regional
    view has them; a later moment's worked out live for the teams whose figures change by
    then). Kept for the day while every team's epoch and members stay the same."""
    pairs = collaborative_teams(collaborative.id)
    team_ids = [team.id for team, _ in pairs]
    members = _members(team_ids, now)
    key = (
        collaborative.id,
        version.content_hash,
        london_day(now).isoformat(),
        tuple((team.id, team.coverage_epoch, tuple(members[team.id])) for team, _ in pairs),
    )
    kept = _FORECASTS.get(key)
    if kept is not None:
        return kept
    today = _judged_teams(pairs, version, members, now)
    rows = [
        ForecastRow(team, org, [today[team.id].gaps], [today[team.id].at_risk])
        for team, org in pairs
    ]
    for moment in (now + timedelta(days=d) for d in FORECAST_DAYS):
        then = _members(team_ids, moment)
        # A team whose members are the same then and whose figures hold until after then
        # (no validation expires or enters the warning period, no values sign-off lapses)
        # is judged the same then as now: only the others are worked out at that moment.
        changed = [t for t in team_ids if then[t] != members[t] or not today[t].holds_at(moment)]
        figures = _live(version, changed, then, moment)
        for row in rows:
            team_id = row.team.id
            if team_id not in figures:
                row.gaps.append(today[team_id].gaps)
                row.at_risk.append(today[team_id].at_risk)
                continue
            cov = judged(row.team, version, then[team_id], figures[team_id], moment)
            row.gaps.append(sum(1 for e in cov.elements if e.status == GAP))
            row.at_risk.append(sum(1 for e in cov.elements if e.status == AT_RISK))
    forecast = Forecast(now, FORECAST_DAYS, rows)
    _FORECASTS.put(key, forecast)
    return forecast


def stage_label(state: str) -> str:
    return STATE_LABELS.get(state, state)
