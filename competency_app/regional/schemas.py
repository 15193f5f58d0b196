"""The regional API's answer as pydantic models (picked up by the OpenAPI document through
`@documented`, as every answer of `api/schemas.py` is). Counts only: no field holds a
person's name, id, rating or reflection."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from competency_app.api.schemas import Answer, Moment, Query, TeamRef


class RegionalQuery(Query):
    """No arguments: the regional lead's own collaborative, now."""


class CollaborativeRef(Answer):
    slug: str
    name: str


class RegionalTraining(Answer):
    people: int = Field(description="Keyworkers counted (each once).")
    required: int = Field(description="(Person, required item) pairs.")
    compliant: int = Field(description="Of those, in date or expiring.")
    percent: int = Field(description="compliant / required, rounded down.")
    fully_compliant: int = Field(description="People in date on every required item.")


class RegionalTeam(TeamRef):
    members: int = Field(description="Keyworkers in the team today.")
    elements: int
    elements_met: int = Field(description="Elements met (not at risk, not a gap).")
    elements_at_risk: int
    element_gaps: int
    values_status: Literal["met", "at_risk", "gap"]
    skills_held_by_too_few: int = Field(description="Skills below the rule in this team.")
    figures_from: Literal["stored", "live"] = Field(
        description="stored: the figures kept by the last sign-off; live: worked out now."
    )
    training: RegionalTraining
    vacancies: dict[str, int] = Field(
        description="Vacancies not closed, by stage (only the stages with any)."
    )
    open_vacancies: int


class RegionalOrganisation(Answer):
    slug: str
    name: str
    practitioners: int = Field(description="Keyworkers in its teams, each once.")
    teams: list[RegionalTeam]


class TeamHolders(TeamRef):
    holders: int = Field(description="The team's keyworkers holding the skill.")


class RegionalSkill(Answer):
    id: str = Field(description="The skill's id in the framework (`1a.s3`).")
    element: str = Field(description="Its element's id.")
    text: str
    min_holders: int = Field(description="Holders its element needs in a team.")
    needed: int = Field(description="min_holders × teams with keyworkers.")
    holders: int = Field(description="Distinct holders across the collaborative.")
    held_by_too_few: bool = Field(description="holders < needed.")
    teams: list[TeamHolders] = Field(description="Teams holding it, most holders first.")


class ForecastTeam(TeamRef):
    element_gaps: list[int] = Field(description="Today, then at each of `days`.")
    elements_at_risk: list[int] = Field(description="Today, then at each of `days`.")


class RegionalForecast(Answer):
    days: list[int]
    element_gaps: list[int] = Field(description="All teams together: today, then each day.")
    elements_at_risk: list[int]
    teams: list[ForecastTeam]


class RegionalCounts(Answer):
    organisations: int
    teams: int
    practitioners: int = Field(description="Keyworkers across the collaborative, each once.")
    elements_met: int
    elements_at_risk: int
    element_gaps: int
    skills_held_by_too_few: int
    open_vacancies: int


class RegionalOut(Answer):
    collaborative: CollaborativeRef
    framework_version: int
    as_at: Moment
    counts: RegionalCounts
    training: RegionalTraining
    vacancies: dict[str, int] = Field(description="Vacancies not closed, by stage.")
    skills_rule: str = Field(description="When a skill is held by too few, in words.")
    organisations: list[RegionalOrganisation]
    skills: list[RegionalSkill]
    forecast: RegionalForecast
