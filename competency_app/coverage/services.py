"""Team coverage: the one computation every page, the API, the charts and workbooks read.

`coverage_for_team` judges the team's figures (`coverage.figures`) by the framework's rule
and returns a `TeamCoverage`: a status for every element, skill and the core values, the
reason for each in words, the gaps, what is at risk and the headline counts.

- A person *holds* a skill when their latest validation of it is at or above competent
  and in date; they can *fulfil an element alone* when they hold every skill of it.
- `coverage_rule: each_skill` (the default, the framework's own words: the competencies
  "are met in full by the Keyworking function" though not every person fulfils each
  element): an element is met when every skill of it is held by at least `min_holders`
  members. `whole_element`: when at least `min_holders` members each hold every skill.
- What the file's `rules.expected_of_everyone` asks of every member is met only when every
  member meets it: the core values when it names `values`; of an element it names, every
  skill but those marked enhanced (the enhanced ones are held by the team, each by its
  number needed); a skill it names. An element with skills expected of everyone is met
  when every member holds those and the rest of its skills are held as the rule says.
- A *gap* is an element, skill or expectation below its rule. *At risk*: met, but by a
  single holder, or only through validations that expire within the warning period.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import cast

from competency_app.accounts.models import Role, Team, User
from competency_app.accounts.services import team_member_names, team_members, team_members_ever
from competency_app.clock import utcnow
from competency_app.coverage.figures import (
    TeamFigures,
    _aware,  # noqa: F401 - re-exported for older callers
    figures_over_time,
    version_shape,
)
from competency_app.coverage.organisation import organisation_holders  # noqa: F401
from competency_app.coverage.reasons import NamedSkill, Reason, grouped, skill_list, summarise
from competency_app.coverage.stored import figures_for
from competency_app.coverage.words import headline, rule_sentence
from competency_app.framework.models import Element, FrameworkVersion, Skill

MET, AT_RISK, GAP = "met", "at_risk", "gap"
RANK = {MET: 0, AT_RISK: 1, GAP: 2}
STATUS_LABELS = {MET: "Met", AT_RISK: "At risk", GAP: "Gap"}
RULES = ("each_skill", "whole_element")


def coverage_rule(version: FrameworkVersion) -> str:
    """The rule named in the framework file (versions loaded before it existed: the
    default)."""
    return version.settings.coverage_rule


def _holding(count: int, needed: int) -> str:
    """'2 hold it, 1 needed' — never a fraction."""
    if count == 0:
        return f"nobody holds it, {needed} needed"
    return f"{count} {'holds' if count == 1 else 'hold'} it, {needed} needed"


def _everyone(count: int) -> str:
    return "nobody" if count == 0 else "1 person" if count == 1 else f"{count} people"


class _Judged:
    """A status judged by the rule (`met`, `at_risk` or `gap`), with its two questions."""

    status: str

    @property
    def is_gap(self) -> bool:
        return self.status == GAP

    @property
    def is_at_risk(self) -> bool:
        return self.status == AT_RISK


@dataclass
class SkillCoverage(_Judged):
    skill: Skill
    holders: int
    min_holders: int
    durable: int = 0  # holders whose validation outlasts the warning period
    holder_id: int | None = None  # the holder, when there is exactly one
    status: str = MET
    why: str = ""

    @property
    def holders_text(self) -> str:
        return _holding(self.holders, self.min_holders)


@dataclass
class ElementCoverage(_Judged):
    element: Element
    skill_count: int
    # person id -> number of the element's skills they hold at competent or above
    competent_skills: dict[int, int] = field(default_factory=dict)
    # person id -> number of the element's skills validated one level below competent
    developing_skills: dict[int, int] = field(default_factory=dict)
    # person id -> earliest expiry among the validations that let them fulfil it alone
    holder_expiry: dict[int, datetime] = field(default_factory=dict)
    skills: list[SkillCoverage] = field(default_factory=list)
    needed: int = 1  # min_holders, or every member for an element expected of everyone
    status: str = MET
    why: str = ""
    not_met_ids: list[int] = field(default_factory=list)  # expected of everyone: who not yet
    skill_rule: str = "each_skill"  # the framework's coverage rule
    # the element's skills expected of every member, and the members holding all of them
    # (-> the earliest expiry among those validations)
    everyone_keys: frozenset[str] = frozenset()
    everyone_expiry: dict[int, datetime] = field(default_factory=dict)

    @property
    def expects_everyone(self) -> bool:
        """Whether any skill of the element is expected of every member."""
        return bool(self.everyone_keys)

    @property
    def met_by(self) -> dict[int, datetime]:
        """Members who have met what is expected of everyone (an element that expects
        something of everyone), else those who hold every skill of it."""
        return self.everyone_expiry if self.expects_everyone else self.holder_expiry

    @property
    def holders(self) -> list[int]:
        """Members who can fulfil the whole element on their own."""
        return sorted(self.holder_expiry)

    @property
    def min_holders(self) -> int:
        return self.element.min_holders

    @property
    def against_rule(self) -> tuple[int, int]:
        """(so far, needed) under the rule: members who have met it of every member (an
        element expected of everyone), members holding every skill of `min_holders`
        (whole_element), or skills held by enough members of all its skills (each_skill).
        The workbook's figures and the chart's bars."""
        if self.expects_everyone:
            return len(self.everyone_expiry), self.needed
        if self.skill_rule == "whole_element":
            return len(self.holder_expiry), self.min_holders
        return self.skills_held, self.skill_count

    @property
    def skills_held(self) -> int:
        """Skills held by at least `min_holders` members."""
        return sum(1 for s in self.skills if s.holders >= s.min_holders)

    @property
    def short_text(self) -> str:
        """The matrix cell: the figure the rule in force judges, in words."""
        alone = len(self.holder_expiry)
        if self.expects_everyone:
            return f"{len(self.everyone_expiry)} of {self.needed} have met it"
        if self.skill_rule == "each_skill" and self.skills:
            counts = [s.holders for s in self.skills]
            low, high = min(counts), max(counts)
            spread = f"{low}" if low == high else f"{low}–{high}"
            return f"each skill held by {spread}, {self.min_holders} needed"
        return _holding(alone, self.min_holders)

    @property
    def holders_text(self) -> str:
        """Both figures in words: skills held across the team and whole-element holders."""
        alone = len(self.holder_expiry)
        if self.expects_everyone:
            return f"{len(self.everyone_expiry)} of {self.needed} have met it"
        whole = f"{_everyone(alone)} {'holds' if alone <= 1 else 'hold'} every skill"
        if len(self.skills) and self.skill_rule == "each_skill":
            counts = [s.holders for s in self.skills]
            low, high = min(counts), max(counts)
            spread = f"{low}" if low == high else f"{low}–{high}"
            return (
                f"{self.skills_held} of {self.skill_count} skills held by {self.min_holders} "
                f"or more (each by {spread}); {whole}"
            )
        return f"{_holding(alone, self.min_holders)}; {whole}"


@dataclass
class ValuesCoverage:
    """The core values: met by a person whose latest validation's review in supervision
    says evidenced for every value. Judged (a gap while someone has not) only when the
    file expects them of everyone; else always met, with the sign-offs counted."""

    met: dict[int, datetime]  # person -> when the sign-off lapses
    not_met_ids: list[int]
    status: str
    why: str
    required: bool = True  # the file's `expected_of_everyone` names `values`


@dataclass
class TeamCoverage:
    team: Team
    version: FrameworkVersion
    members: list[User]
    elements: list[ElementCoverage]
    skills: list[SkillCoverage]
    now: datetime
    horizon: datetime
    competent_level: int
    values: ValuesCoverage
    rule: str = "each_skill"
    without: list[User] = field(default_factory=list)  # members supposed to have left
    from_history: bool = False
    figures_from: datetime | None = None  # when the figures judged were computed

    @property
    def values_met(self) -> set[int]:
        return set(self.values.met)

    @property
    def gaps(self) -> list[ElementCoverage]:
        return [e for e in self.elements if e.is_gap]

    @property
    def at_risk(self) -> list[ElementCoverage]:
        return [e for e in self.elements if e.is_at_risk]

    @property
    def skill_gaps(self) -> list[SkillCoverage]:
        return [s for s in self.skills if s.is_gap]

    @property
    def skills_at_risk(self) -> list[SkillCoverage]:
        return [s for s in self.skills if s.is_at_risk]

    @property
    def everyone_elements(self) -> list[ElementCoverage]:
        return [e for e in self.elements if e.expects_everyone]

    def not_met(self, coverage: ElementCoverage) -> list[User]:
        return [m for m in self.members if m.id not in coverage.met_by]

    @property
    def values_not_met(self) -> list[User]:
        return [m for m in self.members if m.id not in self.values.met]

    @property
    def covered_count(self) -> int:
        return sum(1 for e in self.elements if not e.is_gap)

    @property
    def gap_keys(self) -> list[str]:
        """Element ids below their rule, and "values" when not every member meets them."""
        keys = [e.element.key for e in self.gaps]
        return keys + (["values"] if self.values.status == GAP else [])

    @property
    def at_risk_keys(self) -> list[str]:
        keys = [e.element.key for e in self.at_risk]
        return keys + (["values"] if self.values.status == AT_RISK else [])

    @property
    def counts(self) -> dict[str, int]:
        """The headline figures (home page, workbook summary, API). `gaps` and `at_risk`
        count the core values with the elements (as `gap_keys` lists them);
        `element_gaps` and `elements_at_risk` the elements alone."""
        return {
            "elements": len(self.elements),
            "elements_met": self.covered_count,
            "gaps": len(self.gap_keys),
            "at_risk": len(self.at_risk_keys),
            "element_gaps": len(self.gaps),
            "elements_at_risk": len(self.at_risk),
            "values_met": len(self.values.met),
            "skills": len(self.skills),
            "skill_gaps": len(self.skill_gaps),
            "skills_at_risk": len(self.skills_at_risk),
            "members": len(self.members),
        }

    @property
    def headline(self) -> str:
        """The sentence the coverage page and the home page open with: elements and the core
        values counted apart, "7 of 8 elements met: 1 gap, 1 at risk; core values: 5 of 8
        members; 3 skills held by too few"."""
        return headline(self)

    @property
    def rule_sentence(self) -> str:
        return rule_sentence(self.version)


def team_practitioners(team: Team, on: datetime | None = None) -> list[User]:
    """The team's active keyworkers; with `on`, those who have not left by that day."""
    return team_members(team, Role.PRACTITIONER, on=on)


def is_member_on(person: User, moment: datetime, today: date | None = None) -> bool:
    """Whether `person` (a member) counts on `moment`'s day, as `team_members(on=...)`
    reads them: an active account or a leaver whose leaving day has come
    (`accounts.present`), started by then (or no start date recorded) and not yet left."""
    day = moment.date()
    today = today or utcnow().date()
    if not person.active and (person.leaving_date is None or person.leaving_date > today):
        return False
    started = person.start_date is None or person.start_date <= day
    return started and (person.leaving_date is None or person.leaving_date > day)


def team_practitioner_names(team: Team, on: datetime | None = None):
    """The same people as (id, name) rows."""
    return team_member_names(team, Role.PRACTITIONER, on=on)


# ---- judging the figures by the rule ----------------------------------------------------


def _judge_skill(cov_skill: SkillCoverage, warning_days: int, name) -> None:
    s, needed = cov_skill, cov_skill.min_holders
    skill = s.skill
    if s.holders < needed:
        s.status = GAP
        s.why = (
            Reason(skill, " is held by nobody")
            if s.holders == 0
            else Reason(skill, f": {_holding(s.holders, needed)}")
        )
    elif s.holders == 1:
        s.status = AT_RISK
        s.why = Reason(skill, f" is held only by {name(s.holder_id)}")
    elif s.durable < needed:
        s.status = AT_RISK
        s.why = Reason(
            skill,
            f": {_holding(s.holders, needed)}, but only {s.durable} of those "
            f"validations run beyond {warning_days} days",
        )
    else:
        s.status = MET
        s.why = Reason(skill, f": {_holding(s.holders, needed)}")


def _judge_everyone(e: ElementCoverage, members: list[User], horizon: datetime, warning: int):
    """What the element asks of every member: (status, why)."""
    element, met = e.element, e.everyone_expiry
    e.not_met_ids = [m.id for m in members if m.id not in met]
    expiring = [m.id for m in members if m.id in met and met[m.id] <= horizon]
    what = "it" if element.expected_of_everyone else _asked(e)
    if not members:
        return GAP, Reason(f"{element.title}: the team has no members to meet ", what)
    if e.not_met_ids:
        have = f"{len(e.not_met_ids)} of {len(members)} have not yet met "
        return GAP, Reason(f"{element.title}: {have}", what)
    if expiring:
        return AT_RISK, Reason(
            f"{element.title}: all {len(members)} have met ",
            what,
            f", but {len(expiring)} only through validations that expire within {warning} days",
        )
    return MET, Reason(f"{element.title}: all {len(members)} have met ", what)


def _asked(e: ElementCoverage) -> Reason:
    """The skills of an element asked of everyone when the file names them one by one."""
    asked: list[NamedSkill] = [s.skill for s in e.skills if s.skill.key in e.everyone_keys]
    return Reason("what is expected of everyone (", skill_list(asked), ")")


def _judge_skills(e: ElementCoverage, members: list[User], skills: list[SkillCoverage]):
    """The element's skills judged one by one (each_skill): (status, why)."""
    short = grouped(
        [s for s in skills if s.is_gap],
        lambda s: "held by nobody" if s.holders == 0 else None,
        len(e.skills),
    )
    risky = grouped(
        [s for s in skills if s.is_at_risk],
        lambda s: f"held only by {_name(members, s.holder_id)}" if s.holder_id else None,
        len(e.skills),
    )
    if short:
        return GAP, summarise(short)
    if risky:
        return AT_RISK, summarise(risky)
    return MET, ""


def _judge_element(e: ElementCoverage, members: list[User], horizon: datetime, warning: int):
    element = e.element
    alone = e.holder_expiry
    if e.expects_everyone:
        # every member holds what is asked of everyone; the element's other skills (the
        # enhanced ones) are held by the team, each by the number needed
        e.needed = len(members)
        status, why = _judge_everyone(e, members, horizon, warning)
        rest = [s for s in e.skills if s.skill.key not in e.everyone_keys]
        rest_status, rest_why = _judge_skills(e, members, rest)
        if RANK[rest_status] > RANK[status]:
            status, why = rest_status, rest_why
        e.status, e.why = status, why
        return
    e.needed = element.min_holders
    if e.skill_rule == "whole_element":
        durable = sum(1 for expiry in alone.values() if expiry > horizon)
        if len(alone) < e.needed:
            e.status = GAP
            e.why = f"{element.title}: {_holding(len(alone), e.needed)} (every skill)"
        elif len(alone) == 1:
            person = next(iter(alone))
            e.status = AT_RISK
            e.why = f"{element.title}: only {_name(members, person)} holds every skill"
        elif durable < e.needed:
            e.status = AT_RISK
            e.why = (
                f"{element.title}: {_holding(len(alone), e.needed)}, but only {durable} of "
                f"them through validations that run beyond {warning} days"
            )
        else:
            e.status, e.why = MET, f"{element.title}: {_holding(len(alone), e.needed)}"
        return
    e.status, e.why = _judge_skills(e, members, e.skills)
    if e.status == MET:
        counts = [s.holders for s in e.skills]
        spread = f"{min(counts)}" if min(counts) == max(counts) else f"{min(counts)}–{max(counts)}"
        e.why = f"{element.title}: every skill is held by {e.needed} or more (each by {spread})"


def _name(members: list[User], person_id: int | None) -> str:
    return next((m.name for m in members if m.id == person_id), "one member")


def _judge_values(figures: TeamFigures, members: list[User], horizon, warning, version):
    met = {p: lapse for p, lapse in figures.values_met.items() if p in {m.id for m in members}}
    missing = [m.id for m in members if m.id not in met]
    expiring = [p for p, lapse in met.items() if lapse <= horizon]
    if not version.settings.values_expected_of_everyone:
        # the file does not ask them of everyone: never a gap; the sign-offs still counted
        why = (
            f"Core values: not expected of everyone in this framework; {len(met)} of "
            f"{len(members)} signed off"
        )
        return ValuesCoverage(met, missing, MET, why, required=False)
    if not members:
        status, why = GAP, "Core values: the team has no members to meet them"
    elif missing:
        status = GAP
        why = (
            f"Core values: {len(missing)} of {len(members)} have not yet had their reflection "
            "signed off in supervision"
        )
    elif expiring:
        status = AT_RISK
        why = (
            f"Core values: all {len(members)} signed off, but {len(expiring)} sign-offs lapse "
            f"within {warning} days"
        )
    else:
        status, why = MET, f"Core values: signed off for all {len(members)}"
    return ValuesCoverage(met, missing, status, why)


def judge(
    team: Team,
    version: FrameworkVersion,
    members: list[User],
    figures: TeamFigures,
    now: datetime,
) -> TeamCoverage:
    """The rule applied to the figures: a pure function of its arguments."""
    warning = version.settings.expiring_soon_days
    horizon = now + timedelta(days=warning)
    rule = coverage_rule(version)
    shape = version_shape(version)
    coverages, all_skills = [], []
    for competency in version.competencies:
        for element in competency.elements:
            e = ElementCoverage(
                element,
                shape.skill_counts.get(element.key, 0),
                figures.competent.get(element.key, {}),
                figures.developing.get(element.key, {}),
                figures.holder_expiry.get(element.key, {}),
                skill_rule=rule,
                everyone_keys=shape.everyone.get(element.key, frozenset()),
                everyone_expiry=figures.everyone_expiry.get(element.key, {}),
            )
            for skill in element.skills:
                f = figures.skills.get(skill.key)
                s = SkillCoverage(
                    skill,
                    f.holders if f else 0,
                    element.min_holders,
                    f.durable if f else 0,
                    f.first_holder if f and f.holders == 1 else None,
                )
                _judge_skill(s, warning, lambda p: _name(members, p))
                e.skills.append(s)
                all_skills.append(s)
            _judge_element(e, members, horizon, warning)
            coverages.append(e)
    return TeamCoverage(
        team=team,
        version=version,
        members=members,
        elements=coverages,
        skills=all_skills,
        now=now,
        horizon=horizon,
        competent_level=version.settings.scale.competent_level,
        values=_judge_values(figures, members, horizon, warning, version),
        rule=rule,
        from_history=figures.from_history,
        figures_from=figures.valid_from,
    )


@dataclass(frozen=True, slots=True)
class Member:
    """A team member as a judgement in counts sees them: an id, never a name."""

    id: int
    name: str = "one member"
    leaving_date: None = None


def team_counts(
    version: FrameworkVersion, ids: list[int], figures: TeamFigures, now: datetime
) -> dict:
    """A team's coverage in counts (the regional view's, stored beside the team's figures by
    the job that keeps them): members, elements, met, at risk, gaps, the core values'
    status, skills held by too few, and each skill's holders (skills held only). Judged by
    `judge` over the members as ids; the figures say how long the counts hold."""
    people = cast(list[User], [Member(i) for i in ids])
    cov = judge(cast(Team, None), version, people, figures, now)  # no team: counts only
    counts = cov.counts
    return {
        "members": counts["members"],
        "elements": counts["elements"],
        "met": sum(1 for e in cov.elements if e.status == MET),
        "at_risk": counts["elements_at_risk"],
        "gaps": counts["element_gaps"],
        "values": cov.values.status,
        "skill_gaps": counts["skill_gaps"],
        "holders": {s.skill.key: s.holders for s in cov.skills if s.holders},
    }


def coverage_for_team(
    team: Team,
    version: FrameworkVersion,
    now: datetime | None = None,
    cached: bool = True,
    without: tuple[int, ...] = (),
) -> TeamCoverage:
    """The team's coverage of `version` at `now` (default: the app clock).

    Today and later moments read the current-rating projection (later ones drop what will
    have expired, and the people who will have left); earlier ones read the history.
    `without` leaves members out ("if they left"). Only today's figures are cached.
    """
    real = utcnow()
    now = now or real
    # An earlier moment is read from the history; one within the last hour (a caller's own
    # "now" taken a little earlier) from the projection, which is the same unless a
    # validation came in between.
    past = now < real - timedelta(hours=1)
    everyone = team_practitioners(team, on=now)
    members = [m for m in everyone if m.id not in without]
    ids = [m.id for m in members]
    figures = figures_for(team, version, ids, now, from_history=past, cached=cached)
    cov = judge(team, version, members, figures, now)
    cov.without = [m for m in everyone if m.id in without]
    return cov


def coverage_over_time(
    team: Team, version: FrameworkVersion, moments: list[datetime]
) -> list[TeamCoverage]:
    """The team's coverage at each of `moments` (ascending): what
    `coverage_for_team(team, version, moment, cached=False)` gives for each, with the past
    moments' figures from one read of the rating history (`figures_over_time`) instead of
    a set of statements per moment."""
    real = utcnow()
    past = [moment for moment in moments if moment < real - timedelta(hours=1)]
    everyone = team_members_ever(team)  # the active members and the leavers
    today = real.date()
    members = [[m for m in everyone if is_member_on(m, moment, today)] for moment in past]
    figures = figures_over_time(version, [[m.id for m in group] for group in members], past)
    result = [
        judge(team, version, group, moment_figures, moment)
        for group, moment_figures, moment in zip(members, figures, past, strict=True)
    ]
    # the last hour reads the projection, as coverage_for_team does
    result += [
        coverage_for_team(team, version, moment, cached=False) for moment in moments[len(past) :]
    ]
    return result


def coverage_summary(cov: TeamCoverage) -> dict:
    """The JSON shape of `/api/v1/teams/<slug>/coverage`."""
    return {
        "team": {"slug": cov.team.slug, "name": cov.team.name},
        "framework_version": cov.version.number,
        "as_at": cov.now.isoformat(),
        "rule": cov.rule,
        "rule_text": cov.rule_sentence,
        "members": [{"id": m.id, "name": m.name} for m in cov.members],
        "without": [m.id for m in cov.without],
        "counts": cov.counts,
        "elements": [
            {
                "id": e.element.key,
                "title": e.element.title,
                "min_holders": e.min_holders,
                "needed": e.needed,
                "expected_of_everyone": e.expects_everyone,
                "holders": len(e.holder_expiry),
                "holder_ids": e.holders,
                "skills_held": e.skills_held,
                "skill_count": e.skill_count,
                "not_met_ids": e.not_met_ids,
                "status": e.status,
                "gap": e.is_gap,
                "at_risk": e.is_at_risk,
                "why": e.why,
            }
            for e in cov.elements
        ],
        "skills": [
            {
                "id": s.skill.key,
                "element": s.skill.element.key,
                "holders": s.holders,
                "needed": s.min_holders,
                "status": s.status,
                "gap": s.is_gap,
                "at_risk": s.is_at_risk,
                "why": s.why,
            }
            for s in cov.skills
        ],
        "gaps": cov.gap_keys,
        "at_risk": cov.at_risk_keys,
        "skill_gaps": [s.skill.key for s in cov.skill_gaps],
        "skills_at_risk": [s.skill.key for s in cov.skills_at_risk],
        "values": {"status": cov.values.status, "why": cov.values.why},
        "values_not_met": [m.id for m in cov.values_not_met],
    }


def matrix_rows(cov: TeamCoverage) -> list[tuple[ElementCoverage, list[str]]]:
    """Per element, each member's state in member order: 'held' (every skill), 'met' (what
    is expected of everyone, but not an enhanced skill the team holds), 'partial' or 'none'."""
    return [(e, [_matrix_state(e, m.id) for m in cov.members]) for e in cov.elements]


def _matrix_state(e: ElementCoverage, person_id: int) -> str:
    if person_id in e.holder_expiry:
        return "held"
    if e.expects_everyone and person_id in e.everyone_expiry:
        return "met"
    return "partial" if person_id in e.competent_skills else "none"
