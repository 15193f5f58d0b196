"""The coverage page's sentences that more than one page gives: the rule in force and the
headline (the coverage page and the home page read them from here, never write them again)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from competency_app.framework.models import FrameworkVersion, Skill

if TYPE_CHECKING:
    from competency_app.coverage.services import TeamCoverage


def rule_sentence(version: FrameworkVersion) -> str:
    competent = version.settings.scale.competent_level
    label = version.settings.scale.competent_label
    counted = (
        f"A skill is held by someone whose latest supervisor validation of it is at "
        f"{label} ({competent}) or above and in date."
    )
    if version.settings.coverage_rule == "whole_element":
        rule = (
            "An element is met when enough team members (its number needed) can each "
            "fulfil the whole element alone, holding every skill of it."
        )
    else:
        rule = (
            "An element is met when every skill of it is held by enough team members (its "
            "number needed): the team meets it together, not every person alone."
        )
    everyone = "Anything expected of everyone is met only when every member meets it"
    if _enhanced_left_out(version):
        everyone += "; an enhanced skill is held by the team, not asked of every member"
    return f"{rule} {everyone}. {counted}"


def _enhanced_left_out(version: FrameworkVersion) -> list[Skill]:
    """Enhanced skills of elements expected of everyone, which the rule leaves out."""
    expected = version.settings.everyone_skills
    return [
        skill
        for c in version.competencies
        for e in c.elements
        if e.expected_of_everyone
        for skill in e.skills
        if skill.enhanced and skill.key not in expected
    ]


def _plural(count: int, word: str) -> str:
    return f"{count} {word if count == 1 else word + 's'}"


def headline(cov: TeamCoverage) -> str:
    """`TeamCoverage.headline`: written once, for every page that gives it."""
    members = _plural(len(cov.members), "member")
    values = f"{len(cov.values.met)} of {members}"
    if not cov.values.required:
        values = f"not expected of everyone ({values} signed off)"
    elif cov.values.status == "at_risk":
        values += " (at risk)"
    return (
        f"{cov.covered_count} of {len(cov.elements)} elements met: "
        f"{_plural(len(cov.gaps), 'gap')}, {len(cov.at_risk)} at risk; core values: {values}; "
        f"{_plural(len(cov.skill_gaps), 'skill')} held by too few"
    )
