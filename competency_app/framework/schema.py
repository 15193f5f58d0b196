"""The shape of `competency_app/data/framework.yaml`, as pydantic models.

The schema is strict (unknown fields are errors) so that a typo in a framework file is
reported rather than silently ignored. Cross-references (ids that must exist) are checked
in `FrameworkDocument.check_references`, after the field-level validation.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class AddedLater(Strict):
    """A section that gained fields after files were first stored (`added_later`): each is
    written out only when it differs from its default, so a file that leaves them out keeps
    the content hash (and stored document) it had before they existed, and loading it
    again after an upgrade makes no new version."""

    added_later: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode="wrap")
    def _leave_out_added_defaults(self, handler: SerializerFunctionWrapHandler) -> dict:
        data = handler(self)
        fields = type(self).model_fields
        for name in self.added_later:
            if getattr(self, name) == fields[name].get_default(call_default_factory=True):
                data.pop(name, None)
        return data


def _check_id(value: str) -> str:
    if not ID_PATTERN.match(value):
        raise ValueError(
            "ids use lower-case letters, digits, '.', '_' and '-' and start with a letter "
            f"or digit; got {value!r}"
        )
    return value


class Metadata(Strict):
    title: str
    short_title: str
    publisher: str
    source: str = Field(description="Where the framework text comes from.")
    version_label: str
    notes: str | None = None


class RatingLevel(Strict):
    value: int = Field(ge=0, le=9)
    label: str
    descriptor: str


class RatingScale(Strict):
    levels: list[RatingLevel] = Field(min_length=2)
    competent_level: int

    @model_validator(mode="after")
    def _competent_level_exists(self) -> RatingScale:
        values = [level.value for level in self.levels]
        if values != sorted(set(values)):
            raise ValueError("rating levels must have distinct values in ascending order")
        if self.competent_level not in values:
            raise ValueError(f"competent_level {self.competent_level} is not one of {values}")
        return self


class Rules(Strict):
    validity_months: int = Field(ge=1, le=60)
    expiring_soon_days: int = Field(ge=1, le=365)
    default_min_holders: int = Field(ge=1, le=50)
    coverage_rule: Literal["each_skill", "whole_element"] = Field(
        default="each_skill",
        description=(
            "each_skill: an element is met when every skill of it is held by at least "
            "min_holders team members; whole_element: when min_holders members each hold "
            "every skill."
        ),
    )
    expected_of_everyone: list[str] = Field(
        description=(
            "What every individual must hold: 'values' (all core values), element ids (every "
            "skill of the element but those marked enhanced) and skill ids (that skill)."
        )
    )


SessionKind = Literal["one_to_one", "peer", "group"]
SESSION_KINDS: tuple[SessionKind, ...] = ("one_to_one", "peer", "group")


class SupervisionPrompt(Strict):
    """A topic every supervision session discusses: the record has a section for it."""

    id: str
    title: str = Field(min_length=1, max_length=120, description="The section's heading.")
    text: str = Field(min_length=1, max_length=2000, description="What to discuss.")
    source: str | None = Field(
        default=None, min_length=1, description="Where the text comes from (a citation)."
    )

    _id = field_validator("id")(_check_id)


class ReviewCycle(AddedLater):
    """The `supervision:` section: when the competency review falls due and how early its
    self-assessment is due; what every session discusses (`prompts`), the kinds of session
    the service holds, and after how many weeks without one a person is shown as overdue.
    """

    added_later = ("prompts", "alert_after_weeks", "session_kinds")

    review_cycle_months: int = Field(
        default=12,
        ge=1,
        le=60,
        description="Months from a validated assessment to the next review.",
    )
    self_assessment_due_days: int = Field(
        default=7,
        ge=0,
        le=90,
        description="Days before the review's supervision session the self-assessment is due.",
    )
    prompts: list[SupervisionPrompt] = Field(
        default=[], description="Discussion prompts: a section of every session's record each."
    )
    alert_after_weeks: int = Field(
        default=6,
        ge=1,
        le=104,
        description="Weeks since the last supervision after which a person is shown overdue.",
    )
    session_kinds: list[SessionKind] = Field(
        default=list(SESSION_KINDS),
        min_length=1,
        description="one_to_one, peer (led by a fellow practitioner or the supervisor) and "
        "group (several supervisees, one record each).",
    )

    @model_validator(mode="after")
    def _distinct(self) -> ReviewCycle:
        ids = [prompt.id for prompt in self.prompts]
        if len(ids) != len(set(ids)):
            raise ValueError(f"prompt ids must be distinct; got {ids}")
        if len(self.session_kinds) != len(set(self.session_kinds)):
            raise ValueError(f"session_kinds lists a kind twice: {self.session_kinds}")
        return self


def _word(default: str, max_length: int, description: str) -> Any:
    return Field(default=default, min_length=1, max_length=max_length, description=description)


class Words(Strict):
    """The words people read for the role the framework describes, its service's posts and
    its skills. Left out, they are plain ones; the keyworking file names its own."""

    practitioner: str = _word(
        "practitioner",
        40,
        "One person in the practitioner role, as within a sentence: 'keyworker'.",
    )
    practitioners: str = _word("practitioners", 40, "Its plural: 'keyworkers'.")
    vacancy_title: str = _word("Practitioner", 200, "A new vacancy's title at first: 'Keyworker'.")
    skill_heading: str = _word(
        "Skill", 60, "The heading over a skill's text in workbooks: 'Skill to be demonstrated'."
    )

    @property
    def practitioner_title(self) -> str:
        """The word at the start of a sentence or a label: 'Keyworker'."""
        return self.practitioner[:1].upper() + self.practitioner[1:]

    @property
    def role_label(self) -> str:
        """The practitioner role as role lists name it: 'Keyworker (practitioner)'."""
        if self.practitioner.casefold() == "practitioner":
            return self.practitioner_title
        return f"{self.practitioner_title} (practitioner)"

    def count(self, number: int) -> str:
        """'1 keyworker', '3 keyworkers'."""
        return f"{number} {self.practitioner if number == 1 else self.practitioners}"


class CoreValue(Strict):
    id: str
    title: str
    description: str

    _id = field_validator("id")(_check_id)

    @field_validator("id")
    @classmethod
    def _value_prefix(cls, value: str) -> str:
        if not value.startswith("value."):
            raise ValueError(f"core value ids start with 'value.'; got {value!r}")
        return value


class Skill(AddedLater):
    added_later = ("revalidate",)

    id: str
    text: str = Field(min_length=1)
    enhanced: bool = False
    area: str | None = Field(default=None, description="Id of the element's area, if grouped.")
    revalidate: bool = Field(
        default=False,
        description=(
            "Set on a skill whose text this version rewords: validations made against the "
            "earlier wording stop counting from the day the version is loaded, and need "
            "validating again. Left out, they count until their next review but are flagged "
            "'validated against earlier wording'. It means nothing where the text is the "
            "same as in the version loaded before (it is then ignored)."
        ),
    )

    _id = field_validator("id")(_check_id)


class Task(Strict):
    id: str
    text: str = Field(min_length=1)

    _id = field_validator("id")(_check_id)


class Area(Strict):
    """A knowledge area (4b) or context (3b) inside an element."""

    id: str
    numeral: str
    title: str
    heading_in_source: str | None = None
    no_skills_note: str | None = Field(
        default=None, description="Set when the source gives this area no skills of its own."
    )

    _id = field_validator("id")(_check_id)


class Element(Strict):
    id: str
    label: str = Field(description="As numbered in the source, e.g. 'a)' or '2.'.")
    short_label: str | None = Field(
        default=None,
        max_length=40,
        description="How the element is named on its own in tables, charts and workbooks, "
        "e.g. '1a'. Defaults to its id.",
    )
    title: str
    alt_title: str | None = None
    min_holders: int | None = Field(default=None, ge=1, le=50)
    areas_kind: Literal["contexts", "knowledge_areas"] | None = None
    areas: list[Area] = []
    skills: list[Skill] = Field(min_length=1)
    tasks: list[Task] = []
    closing_statement: str | None = None
    source_notes: str | None = None

    _id = field_validator("id")(_check_id)

    @model_validator(mode="after")
    def _areas_consistent(self) -> Element:
        area_ids = {area.id for area in self.areas}
        if self.areas and self.areas_kind is None:
            raise ValueError("areas_kind must be set when an element has areas")
        for skill in self.skills:
            if skill.area is not None and skill.area not in area_ids:
                raise ValueError(f"skill {skill.id} names unknown area {skill.area!r}")
        return self


class Competency(Strict):
    id: str
    number: int = Field(ge=1, le=20)
    title: str
    overarching: bool = False
    introduction: str | None = None
    elements: list[Element] = Field(min_length=1)

    _id = field_validator("id")(_check_id)


LOCAL_PROVIDER = "local"


class Module(AddedLater):
    """A course in the catalogue: a public one with its link, or a local one without.

    `source` says where the title, provider and link were found (a URL or a citation), so
    every entry can be checked. `provider: local` marks a course the service runs and
    names itself: it has no public link, so none may be given.
    """

    added_later = ("parts",)

    id: str
    title: str
    provider: str = Field(min_length=1)
    url: str | None = Field(default=None, validate_default=True)
    source: str = Field(min_length=1, description="Where title, provider and link were found.")
    duration_minutes: int | None = Field(default=None, ge=1, le=10000)
    description: str
    develops: list[str] = Field(min_length=1, description="Element, skill or value ids.")
    required: bool = Field(default=False, description="Core training required of everyone.")
    refresh_months: int | None = Field(
        default=None, ge=1, le=120, description="How often required training is repeated."
    )
    # A required item made of several courses: this module and each part (other modules'
    # ids, such as a face-to-face day after the e-learning) must all be in date, each
    # repeated every `refresh_months`, for the item to count.
    parts: list[str] = Field(
        default=[],
        description="Ids of the other modules that complete this required item with it.",
    )

    _id = field_validator("id")(_check_id)

    @property
    def is_local(self) -> bool:
        return self.provider == LOCAL_PROVIDER

    @field_validator("url")
    @classmethod
    def _link_matches_provider(cls, value: str | None, info: ValidationInfo) -> str | None:
        provider = info.data.get("provider")
        if provider == LOCAL_PROVIDER and value is not None:
            raise ValueError(
                "a module with provider 'local' is run by the service itself and has no "
                "public link: remove url"
            )
        if provider is not None and provider != LOCAL_PROVIDER and value is None:
            raise ValueError(
                "a module from a public provider needs its url; for a course the service "
                "runs itself, set provider: local"
            )
        if value is not None and not value.startswith("https://"):
            raise ValueError("module links must start with https://")
        return value

    @field_validator("refresh_months")
    @classmethod
    def _refresh_needs_required(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and info.data.get("required") is False:
            raise ValueError("refresh_months applies to required training: set required: true")
        return value

    @field_validator("parts")
    @classmethod
    def _parts_need_required(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if value and info.data.get("required") is False:
            raise ValueError("parts make up a required item: set required: true")
        if len(set(value)) != len(value):
            raise ValueError("each part is listed once")
        return value


class Criterion(Strict):
    id: str
    text: str
    # The words the source sets above a run of bullets ("The post holder will have a proven
    # understanding of:"), given on each criterion of the run: the text stays verbatim and
    # the lead-in is shown with it wherever the criterion stands alone.
    lead_in: str | None = Field(default=None, min_length=1)
    category: str
    requirement: Literal["essential", "desirable"]
    assessed_by: list[Literal["application", "interview", "assessment"]] = Field(min_length=1)
    links: list[str] = Field(default=[], description="Element or value ids it evidences.")
    source_notes: str | None = None

    _id = field_validator("id")(_check_id)

    @property
    def full_text(self) -> str:
        """The criterion as read on its own: its lead-in (if any), then its text."""
        return criterion_full_text(self.lead_in, self.text)


def criterion_full_text(lead_in: str | None, text: str) -> str:
    """A criterion's text with the lead-in that governs it: the one way to join them."""
    return f"{lead_in} {text}" if lead_in else text


class ScoreLevel(Strict):
    value: int = Field(ge=0, le=10)
    label: str
    descriptor: str


class AppointableRule(Strict):
    """Essential criteria are the bar: an agreed score of at least
    `min_agreed_score_essential` on each, and none of `forbidden_scores` on the criteria
    `forbidden_applies_to` names ("essential", the default, or "all"). Desirable criteria
    rank the candidates who pass."""

    min_agreed_score_essential: int
    forbidden_scores: list[int] = []
    forbidden_applies_to: Literal["essential", "all"] = "essential"
    description: str


class PreEmploymentCheck(Strict):
    """A check an offer is conditional upon (the DBS check, references…): HR or the
    recruiter records each one's outcome before the candidate can be appointed."""

    id: str
    label: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, min_length=1)
    source: str | None = Field(default=None, min_length=1, description="Where it is required.")

    _id = field_validator("id")(_check_id)


class PersonSpecification(AddedLater):
    added_later = ("pre_employment_checks",)

    id: str
    title: str
    source: str
    criteria: list[Criterion] = Field(min_length=1)
    pre_employment_checks: list[PreEmploymentCheck] = Field(
        default=[],
        description="The checks an offer is conditional upon, each recorded before appointing.",
    )

    _id = field_validator("id")(_check_id)


class InterviewScoring(Strict):
    levels: list[ScoreLevel] = Field(min_length=2)
    appointable_rule: AppointableRule
    # An agreed score at or above this on a criterion linked to a team gap counts as the
    # candidate filling the gap. Left out, it is the level three quarters up the scale.
    gap_fit_min_score: int | None = None

    @model_validator(mode="after")
    def _rule_uses_scale(self) -> InterviewScoring:
        values = {level.value for level in self.levels}
        rule = self.appointable_rule
        for score in [rule.min_agreed_score_essential, *rule.forbidden_scores]:
            if score not in values:
                raise ValueError(f"appointable rule names score {score}, not on the scale")
        if self.gap_fit_min_score is not None and self.gap_fit_min_score not in values:
            raise ValueError(f"gap_fit_min_score {self.gap_fit_min_score} is not on the scale")
        return self

    @property
    def gap_fit_threshold(self) -> int:
        """The file's threshold, or the level three quarters up the scale (4 on 1-5)."""
        if self.gap_fit_min_score is not None:
            return self.gap_fit_min_score
        values = sorted(level.value for level in self.levels)
        return values[round(0.75 * (len(values) - 1))]


SCHEMA_VERSION = 2


def read_earlier_version(data: dict) -> tuple[dict, list[tuple[tuple[str | int, ...], str]]]:
    """A file of an earlier `schema_version` as the current version reads it, or why not.

    Version 2 made `source` mandatory on each e-learning module (where its title, provider
    and link were found). A version 1 file whose modules all give one says nothing version 2
    would read differently, so it is read as version 2; one whose modules lack it is refused
    with the modules named, rather than with a bare "field required" per module.
    """
    if data.get("schema_version") != 1:
        return data, []
    modules = data.get("elearning")
    missing = [
        str(module.get("id", i))
        for i, module in enumerate(modules if isinstance(modules, list) else [])
        if isinstance(module, dict) and not module.get("source")
    ]
    if missing:
        return data, [
            (
                ("schema_version",),
                "schema_version 1 files need `source` on each module: add where each "
                "module's title, provider and link were found (a URL or a citation) to "
                f"{', '.join(missing)}, then set schema_version: {SCHEMA_VERSION}",
            )
        ]
    return {**data, "schema_version": SCHEMA_VERSION}, []


class FrameworkDocument(Strict):
    schema_version: Literal[2]
    metadata: Metadata
    rating_scale: RatingScale
    rules: Rules
    supervision: ReviewCycle = ReviewCycle()
    words: Words = Words()
    core_values: list[CoreValue] = Field(min_length=1)
    competencies: list[Competency] = Field(min_length=1)
    elearning: list[Module] = []
    person_specifications: list[PersonSpecification] = []
    interview_scoring: InterviewScoring

    def elements(self) -> list[Element]:
        return [element for comp in self.competencies for element in comp.elements]

    def check_references(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Return (field path, message) for every duplicate id or unresolved reference."""
        problems: list[tuple[tuple[str | int, ...], str]] = []
        seen: dict[str, tuple[str | int, ...]] = {}

        def claim(item_id: str, path: tuple[str | int, ...]) -> None:
            if item_id in seen:
                where = ".".join(str(p) for p in seen[item_id])
                problems.append((path, f"duplicate id {item_id!r} (first used at {where})"))
            else:
                seen[item_id] = path

        for i, value in enumerate(self.core_values):
            claim(value.id, ("core_values", i, "id"))
        for ci, comp in enumerate(self.competencies):
            claim(comp.id, ("competencies", ci, "id"))
            for ei, element in enumerate(comp.elements):
                base = ("competencies", ci, "elements", ei)
                claim(element.id, (*base, "id"))
                for ai, area in enumerate(element.areas):
                    claim(area.id, (*base, "areas", ai, "id"))
                for si, skill in enumerate(element.skills):
                    claim(skill.id, (*base, "skills", si, "id"))
                for ti, task in enumerate(element.tasks):
                    claim(task.id, (*base, "tasks", ti, "id"))
        for mi, module in enumerate(self.elearning):
            claim(module.id, ("elearning", mi, "id"))
        for pi, spec in enumerate(self.person_specifications):
            claim(spec.id, ("person_specifications", pi, "id"))
            for ri, criterion in enumerate(spec.criteria):
                claim(criterion.id, ("person_specifications", pi, "criteria", ri, "id"))
            check_ids: set[str] = set()
            for ki, check in enumerate(spec.pre_employment_checks):
                if check.id in check_ids:
                    problems.append(
                        (
                            ("person_specifications", pi, "pre_employment_checks", ki, "id"),
                            f"duplicate check id {check.id!r}",
                        )
                    )
                check_ids.add(check.id)

        element_ids = {e.id for e in self.elements()}
        skill_ids = {s.id for e in self.elements() for s in e.skills}
        value_ids = {v.id for v in self.core_values}
        problems += self._check_expected_of_everyone()
        for mi, module in enumerate(self.elearning):
            for di, ref in enumerate(module.develops):
                if ref not in element_ids | skill_ids | value_ids:
                    problems.append(
                        (
                            ("elearning", mi, "develops", di),
                            f"unknown element, skill or value {ref!r}",
                        )
                    )
        modules = {m.id: m for m in self.elearning}
        part_of: dict[str, str] = {}
        for mi, module in enumerate(self.elearning):
            for pi, ref in enumerate(module.parts):
                where = ("elearning", mi, "parts", pi)
                if ref == module.id:
                    problems.append((where, f"{ref!r} cannot be a part of itself"))
                elif ref not in modules:
                    problems.append((where, f"unknown module {ref!r}"))
                elif modules[ref].required:
                    problems.append(
                        (
                            where,
                            f"{ref!r} is a required item of its own: a part is counted with "
                            "the item it completes, so set required: false on it",
                        )
                    )
                elif ref in part_of:
                    problems.append((where, f"{ref!r} is already a part of {part_of[ref]!r}"))
                else:
                    part_of[ref] = module.id
        for pi, spec in enumerate(self.person_specifications):
            for ri, criterion in enumerate(spec.criteria):
                for li, ref in enumerate(criterion.links):
                    if ref not in element_ids | value_ids:
                        problems.append(
                            (
                                ("person_specifications", pi, "criteria", ri, "links", li),
                                f"unknown element or value {ref!r}",
                            )
                        )
        return problems

    def _check_expected_of_everyone(self) -> list[tuple[tuple[str | int, ...], str]]:
        """`rules.expected_of_everyone`: each entry 'values', an element or a skill, once;
        an element must leave something expected once its enhanced skills are left out,
        and a skill named on its own must not be one its element already asks."""
        problems: list[tuple[tuple[str | int, ...], str]] = []
        elements = {e.id: e for e in self.elements()}
        element_of = {s.id: e for e in self.elements() for s in e.skills}
        listed = self.rules.expected_of_everyone
        for i, ref in enumerate(listed):
            path: tuple[str | int, ...] = ("rules", "expected_of_everyone", i)
            if ref in listed[:i]:
                problems.append((path, f"{ref!r} is listed twice"))
            elif ref == "values":
                continue
            elif ref in elements:
                if all(skill.enhanced for skill in elements[ref].skills):
                    problems.append(
                        (
                            path,
                            f"element {ref!r} asks nothing of everyone: every skill of it is "
                            "marked enhanced, and an element named here asks the skills that "
                            "are not; name the skills expected of everyone instead",
                        )
                    )
            elif ref in element_of:
                element = element_of[ref]
                skill = next(s for s in element.skills if s.id == ref)
                if element.id in listed and not skill.enhanced:
                    problems.append(
                        (
                            path,
                            f"skill {ref!r} is already expected of everyone through its "
                            f"element {element.id!r}: list one or the other",
                        )
                    )
            else:
                problems.append(
                    (path, f"unknown element or skill {ref!r} ('values' names the core values)")
                )
        return problems
