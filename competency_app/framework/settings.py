"""A framework version's settings, typed: the one owner of every rule the framework file sets.

The loader validates the file against `schema.FrameworkDocument`; the version keeps that
document as JSON. `settings_of(version)` builds this frozen object from the stored
document once per version (cached by id and content hash, cleared with the structure
cache), so the rest of the application reads `version.settings.scale.competent_level`,
`version.settings.validity.valid_until(...)` and so on, never a string key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Protocol

from competency_app.common.dates import add_months
from competency_app.framework.schema import (
    AppointableRule,
    InterviewScoring,
    PreEmploymentCheck,
    RatingLevel,
    RatingScale,
    ReviewCycle,
    Rules,
    ScoreLevel,
    SupervisionPrompt,
    Words,
)


@dataclass(frozen=True)
class Validity:
    """How long a supervisor's validation counts: the same rule for skills and values."""

    months: int

    def valid_until(self, validated_at: datetime) -> datetime:
        """When a validation made at `validated_at` stops counting (calendar months)."""
        return add_months(validated_at, self.months)

    def earliest_valid(self, now: datetime) -> datetime:
        """A lower bound on `validated_at` for a validation still valid at `now`, for
        narrowing a query; `valid_until(...) > now` is the rule itself."""
        return now - timedelta(days=31 * self.months)


@dataclass(frozen=True)
class ReviewCycleSettings:
    """The competency review cycle: which supervision needs a self-assessment, and by when."""

    months: int
    due_days: int

    def review_due(self, validated_at: datetime) -> datetime:
        """When the review after a validation made at `validated_at` falls due."""
        return add_months(validated_at, self.months)

    def self_assessment_due(self, session_day: date) -> date:
        """The day the self-assessment for a session held on `session_day` is due."""
        return session_day - timedelta(days=self.due_days)


@dataclass(frozen=True)
class SupervisionContent:
    """What every session discusses, the kinds of session held, and after how many weeks
    without supervision a person is shown overdue (the file's `supervision:` section)."""

    prompts: tuple[SupervisionPrompt, ...] = ()
    alert_after_weeks: int = ReviewCycle().alert_after_weeks
    session_kinds: tuple[str, ...] = tuple(ReviewCycle().session_kinds)

    @classmethod
    def of(cls, cycle: ReviewCycle) -> SupervisionContent:
        return cls(tuple(cycle.prompts), cycle.alert_after_weeks, tuple(cycle.session_kinds))


class Level(Protocol):
    @property
    def value(self) -> int: ...
    @property
    def label(self) -> str: ...
    @property
    def descriptor(self) -> str: ...


@dataclass(frozen=True)
class Scale:
    """Levels in ascending order, each with its value, label and descriptor."""

    levels: tuple[Level, ...]
    labels: Mapping[int, str] = field(init=False)  # value -> label

    def __post_init__(self) -> None:
        labels = {level.value: level.label for level in self.levels}
        object.__setattr__(self, "labels", MappingProxyType(labels))

    @property
    def values(self) -> frozenset[int]:
        return frozenset(self.labels)

    @property
    def top(self) -> int:
        return self.levels[-1].value

    def named(self, value: int) -> str:
        """A level as shown in lists and workbooks, e.g. "2 Competent"."""
        return f"{value} {self.labels[value]}"

    @property
    def names(self) -> Mapping[int, str]:
        """Value -> "value label" for every level."""
        return MappingProxyType({level.value: self.named(level.value) for level in self.levels})


@dataclass(frozen=True)
class RatingScaleSettings(Scale):
    """The skills' rating scale and the level at and above which a skill counts as held."""

    competent_level: int = 0

    @property
    def competent_label(self) -> str:
        return self.labels[self.competent_level]


@dataclass(frozen=True)
class InterviewSettings:
    """The person specification's interview scale and appointable rule."""

    scale: Scale
    appointable_rule: AppointableRule
    # A candidate's agreed score at or above this on a criterion linked to a team gap
    # counts as filling that gap (from the file, or scaled with the interview scale).
    gap_fit_min_score: int


@dataclass(frozen=True)
class PersonSpecificationName:
    id: str
    title: str
    # The checks an offer is conditional upon, in the file's order; None for a version
    # stored before the file could list them (the current version's are used then).
    pre_employment_checks: tuple[PreEmploymentCheck, ...] | None = None


@dataclass(frozen=True)
class FrameworkSettings:
    short_title: str
    scale: RatingScaleSettings
    validity: Validity
    expiring_soon_days: int
    default_min_holders: int
    coverage_rule: str  # each_skill / whole_element (see schema.Rules)
    expected_of_everyone: frozenset[str]
    interview: InterviewSettings
    person_specifications: tuple[PersonSpecificationName, ...]
    review_cycle: ReviewCycleSettings
    words: Words = Words()
    # The skills every member must hold (`everyone_skills`): those of each element the
    # rule names, but for the ones marked enhanced, and each skill it names itself.
    everyone_skills: frozenset[str] = frozenset()
    supervision: SupervisionContent = SupervisionContent()
    # A required module's other parts (module keys), when the required item has several.
    required_parts: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    @property
    def values_expected_of_everyone(self) -> bool:
        return "values" in self.expected_of_everyone

    @property
    def expiring_soon(self) -> timedelta:
        return timedelta(days=self.expiring_soon_days)

    @property
    def person_specification_title(self) -> str:
        """The file's name for its person specification (or a plain one when it has
        several, or none)."""
        specs = self.person_specifications
        return specs[0].title if len(specs) == 1 else "Person specifications"


def everyone_skills(expected: list[str], competencies: list) -> frozenset[str]:
    """The skill ids `rules.expected_of_everyone` asks of every member: an element named
    asks every skill of it not marked `enhanced` (an enhanced skill is beyond what everyone
    performing the function is expected to hold); a skill named asks that skill.
    `competencies` are the document's (dicts as stored, or the schema's models)."""
    named = set(expected)
    keys: set[str] = set()
    for competency in competencies:
        elements = _get(competency, "elements")
        for element in elements:
            whole = _get(element, "id") in named
            for skill in _get(element, "skills"):
                key = _get(skill, "id")
                if key in named or (whole and not _get(skill, "enhanced", False)):
                    keys.add(key)
    return frozenset(keys)


def _get(item, name: str, default=None):
    return item.get(name, default) if isinstance(item, Mapping) else getattr(item, name)


def settings_from_document(document: Mapping) -> FrameworkSettings:
    """Build the settings from a stored document through the schema's own classes."""
    scale = RatingScale.model_validate(document["rating_scale"])
    rules = Rules.model_validate(document["rules"])
    scoring = InterviewScoring.model_validate(document["interview_scoring"])
    # Versions stored before the review cycle was in the file take its defaults.
    cycle = ReviewCycle.model_validate(document.get("supervision") or {})
    rating_levels: tuple[RatingLevel, ...] = tuple(scale.levels)
    score_levels: tuple[ScoreLevel, ...] = tuple(scoring.levels)
    return FrameworkSettings(
        short_title=document["metadata"]["short_title"],
        scale=RatingScaleSettings(rating_levels, competent_level=scale.competent_level),
        validity=Validity(rules.validity_months),
        expiring_soon_days=rules.expiring_soon_days,
        default_min_holders=rules.default_min_holders,
        coverage_rule=rules.coverage_rule,
        expected_of_everyone=frozenset(rules.expected_of_everyone),
        interview=InterviewSettings(
            Scale(score_levels), scoring.appointable_rule, scoring.gap_fit_threshold
        ),
        person_specifications=tuple(
            PersonSpecificationName(
                spec["id"],
                spec["title"],
                None
                if "pre_employment_checks" not in spec
                else tuple(
                    PreEmploymentCheck.model_validate(check)
                    for check in spec["pre_employment_checks"]
                ),
            )
            for spec in document.get("person_specifications") or []
        ),
        required_parts=MappingProxyType(
            {
                module["id"]: tuple(module["parts"])
                for module in document.get("elearning") or []
                if module.get("parts")
            }
        ),
        review_cycle=ReviewCycleSettings(cycle.review_cycle_months, cycle.self_assessment_due_days),
        # versions stored before the file named its words take the plain ones
        words=Words.model_validate(document.get("words") or {}),
        everyone_skills=everyone_skills(
            rules.expected_of_everyone, document.get("competencies") or []
        ),
        supervision=SupervisionContent.of(cycle),
    )


_SETTINGS: dict[tuple[int, str], FrameworkSettings] = {}


def settings_of(version_id: int, content_hash: str, document: Mapping) -> FrameworkSettings:
    """A stored version's settings, built once per process (a loaded version never
    changes, and its id and content hash name it)."""
    key = (version_id, content_hash)
    cached = _SETTINGS.get(key)
    if cached is None:
        cached = settings_from_document(document)
        if len(_SETTINGS) >= 8:
            _SETTINGS.pop(next(iter(_SETTINGS)))
        _SETTINGS[key] = cached
    return cached


def forget_cached_settings() -> None:
    """For tests that empty the database between cases (ids are reused)."""
    _SETTINGS.clear()
