"""One vocabulary for a team's coverage wherever it is read out of the app: the headline a
manager reads (the coverage page, the workbook's summary), the headline counts and the gap
and risk items (the API, the workbook's Gaps sheet).

Read from a judged `TeamCoverage` only (the one computation in `coverage/services.py`);
nothing here judges anything. Each item's fields keep one meaning whatever its kind:

* `members_holding`: team members who hold it now (an element: who can fulfil the whole
  element alone; a skill: who hold it at the competent level; the values: whose reflection
  is signed off);
* `members_needed`: team members needed (the element's or skill's minimum, or every member
  for what is expected of everyone);
* `skills_held`, `skills_total`, `skills_short`: an element's skills held by enough members,
  all its skills, and those held by too few (none for a skill or the values).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from competency_app.common.text import short_form
from competency_app.coverage.services import AT_RISK, GAP, TeamCoverage
from competency_app.framework.models import Skill


def headline_counts(cov: TeamCoverage) -> dict[str, int | str]:
    """The headline figures with the elements and the values apart (`counts` of the API):
    `gaps` and `at_risk` keep their first meaning (elements and the values together)."""
    return {
        **cov.counts,
        "element_gaps": len(cov.gaps),
        "elements_at_risk": len(cov.at_risk),
        "values_met": len(cov.values.met),
        "values_status": cov.values.status,
    }


@dataclass(frozen=True)
class GapItem:
    """An element, skill or the core values below the rule (`gap`) or at risk."""

    kind: str  # element, skill or values
    id: str
    title: str
    status: str  # gap or at_risk
    why: str
    members_holding: int
    members_needed: int
    skills_held: int | None
    skills_total: int | None
    skills_short: int | None
    # What `/gaps` called `holders` and `needed` at first: the figure the rule judges (an
    # element under each_skill: skills; otherwise members). Kept for v1's clients.
    against_rule: tuple[int | None, int | None]
    element: str | None = None  # a skill's element

    def as_json(self) -> dict:
        data = asdict(self)
        holders, needed = data.pop("against_rule")
        data.pop("element")
        return {**data, "holders": holders, "needed": needed}


def gap_items(cov: TeamCoverage) -> list[GapItem]:
    """The elements, then the skills, then the core values below the rule or at risk."""
    items = []
    for e in cov.elements:
        if e.is_gap or e.is_at_risk:
            items.append(
                GapItem(
                    kind="element",
                    id=e.element.key,
                    title=e.element.title,
                    status=e.status,
                    why=e.why,
                    members_holding=len(e.holder_expiry),
                    members_needed=e.needed,
                    skills_held=e.skills_held,
                    skills_total=e.skill_count,
                    skills_short=e.skill_count - e.skills_held,
                    against_rule=e.against_rule,
                )
            )
    for s in cov.skills:
        if s.is_gap or s.is_at_risk:
            items.append(
                GapItem(
                    kind="skill",
                    id=s.skill.key,
                    title=s.skill.text,
                    status=s.status,
                    why=s.why,
                    members_holding=s.holders,
                    members_needed=s.min_holders,
                    skills_held=None,
                    skills_total=None,
                    skills_short=None,
                    against_rule=(s.holders, s.min_holders),
                    element=s.skill.element.key,
                )
            )
    if cov.values.status in (GAP, AT_RISK):
        items.append(
            GapItem(
                kind="values",
                id="values",
                title="Core values",
                status=cov.values.status,
                why=cov.values.why,
                members_holding=len(cov.values.met),
                members_needed=len(cov.members),
                skills_held=None,
                skills_total=None,
                skills_short=None,
                against_rule=(None, None),
            )
        )
    return items


def skill_headings(skills: list[Skill]) -> dict[str, str]:
    """Skill id -> a column heading in words: the skill's first words (`short_form`), with
    more words where two skills would otherwise share a heading."""
    headings: dict[str, str] = {}
    taken: set[str] = set()
    for skill in skills:
        words = 8
        heading = short_form(skill.text, words)
        while heading in taken and heading != skill.text:
            words += 4
            heading = short_form(skill.text, words)
        if heading in taken:  # two skills with the same words: the id tells them apart
            heading = f"{heading} ({skill.key})"
        taken.add(heading)
        headings[skill.key] = heading
    return headings
