"""Framework versions and their items.

Every item keeps its stable `key` from the YAML (e.g. `1a.s3`); a new version gets new
rows, so ratings made against an older version keep pointing at the text that was rated.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from competency_app.database import UTCDateTime
from competency_app.extensions import Model
from competency_app.framework.schema import LOCAL_PROVIDER, criterion_full_text
from competency_app.framework.settings import FrameworkSettings, settings_of


class FrameworkVersion(Model):
    __tablename__ = "framework_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)  # 1, 2, 3… in load order
    label: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the file
    source_name: Mapped[str] = mapped_column(String(300))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    loaded_by: Mapped[str] = mapped_column(String(200))
    # The validated document (rating scale, rules, interview scoring…) as loaded.
    document: Mapped[dict] = mapped_column(JSON)

    values: Mapped[list[CoreValue]] = relationship(
        back_populates="version", order_by="CoreValue.position"
    )
    competencies: Mapped[list[Competency]] = relationship(
        back_populates="version", order_by="Competency.position"
    )
    modules: Mapped[list[Module]] = relationship(
        back_populates="version", order_by="Module.position"
    )
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="version", order_by="Criterion.position"
    )

    @property
    def settings(self) -> FrameworkSettings:
        """The typed rules, scale and labels of this version (built once per process)."""
        return settings_of(self.id, self.content_hash, self.document)

    @property
    def short_title(self) -> str:
        return self.settings.short_title

    @property
    def person_specification_title(self) -> str:
        return self.settings.person_specification_title

    @property
    def values_expected_of_everyone(self) -> bool:
        return self.settings.values_expected_of_everyone

    @property
    def expected_of_everyone_sentence(self) -> str:
        """Who must hold what, in the file's words: "The core values and Effective
        communication are expected of every individual." ("" when nothing is)."""
        names = ["the core values"] if self.values_expected_of_everyone else []
        names += [e.title for c in self.competencies for e in c.elements if e.expected_of_everyone]
        if not names:
            return ""
        verb = "are" if len(names) > 1 or self.values_expected_of_everyone else "is"
        listed = _listed(names)
        sentence = f"{listed[0].upper()}{listed[1:]} {verb} expected of every individual"
        everyone = self.settings.everyone_skills
        enhanced = [
            e.title
            for c in self.competencies
            for e in c.elements
            if e.expected_of_everyone
            and any(s.enhanced and s.key not in everyone for s in e.skills)
        ]
        if enhanced:
            sentence += (
                f", but for the enhanced skills of {_listed(enhanced)}, which the team holds "
                "as a whole"
            )
        return sentence + "."


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


class _VersionedItem:
    """Columns shared by every item of a framework version."""

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80))  # the stable id from the YAML
    position: Mapped[int] = mapped_column(Integer)


class CoreValue(_VersionedItem, Model):
    __tablename__ = "core_value"
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    version_id: Mapped[int] = mapped_column(ForeignKey("framework_version.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)

    version: Mapped[FrameworkVersion] = relationship(back_populates="values")


class Competency(_VersionedItem, Model):
    __tablename__ = "competency"
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    version_id: Mapped[int] = mapped_column(ForeignKey("framework_version.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    overarching: Mapped[bool] = mapped_column(Boolean, default=False)
    introduction: Mapped[str | None] = mapped_column(Text)

    version: Mapped[FrameworkVersion] = relationship(back_populates="competencies")
    elements: Mapped[list[Element]] = relationship(
        back_populates="competency", order_by="Element.position"
    )


class Element(_VersionedItem, Model):
    __tablename__ = "element"
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    version_id: Mapped[int] = mapped_column(ForeignKey("framework_version.id"), index=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competency.id"), index=True)
    label: Mapped[str] = mapped_column(String(20))  # as numbered in the source: "a)", "2."
    # The element's name on its own (tables, charts, workbooks); None: its key.
    short_label: Mapped[str | None] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    alt_title: Mapped[str | None] = mapped_column(String(300))
    min_holders: Mapped[int] = mapped_column(Integer)
    expected_of_everyone: Mapped[bool] = mapped_column(Boolean, default=False)
    areas_kind: Mapped[str | None] = mapped_column(String(30))
    areas: Mapped[list | None] = mapped_column(JSON)  # [{id, numeral, title, ...}]
    closing_statement: Mapped[str | None] = mapped_column(Text)
    source_notes: Mapped[str | None] = mapped_column(Text)

    competency: Mapped[Competency] = relationship(back_populates="elements")
    skills: Mapped[list[Skill]] = relationship(back_populates="element", order_by="Skill.position")
    tasks: Mapped[list[Task]] = relationship(back_populates="element", order_by="Task.position")

    @property
    def display_label(self) -> str:
        """The element's short name from the framework file (its `short_label`, else its
        id): never derived from how the source numbers it."""
        return self.short_label or self.key

    @property
    def display_name(self) -> str:
        """Short name and title, e.g. "1a Enabling/organising direct support"."""
        return f"{self.display_label} {self.title}"


class Skill(_VersionedItem, Model):
    __tablename__ = "skill"
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    version_id: Mapped[int] = mapped_column(ForeignKey("framework_version.id"), index=True)
    element_id: Mapped[int] = mapped_column(ForeignKey("element.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    enhanced: Mapped[bool] = mapped_column(Boolean, default=False)
    area: Mapped[str | None] = mapped_column(String(80))
    # This version rewords the skill (its text differs from the version loaded before) and
    # the file marks it `revalidate: true`: validations made against the earlier wording
    # stopped counting when this version was loaded. False where the file marks a skill
    # whose text did not change (the mark then means nothing).
    revalidate: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    element: Mapped[Element] = relationship(back_populates="skills")


class Task(_VersionedItem, Model):
    __tablename__ = "task"
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    version_id: Mapped[int] = mapped_column(ForeignKey("framework_version.id"), index=True)
    element_id: Mapped[int] = mapped_column(ForeignKey("element.id"), index=True)
    text: Mapped[str] = mapped_column(Text)

    element: Mapped[Element] = relationship(back_populates="tasks")


class Module(_VersionedItem, Model):
    """An e-learning module and the framework items it develops."""

    __tablename__ = "elearning_module"
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    version_id: Mapped[int] = mapped_column(ForeignKey("framework_version.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    provider: Mapped[str] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(500))
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    # Where the title, provider and link were found; empty for versions loaded before it.
    source: Mapped[str | None] = mapped_column(Text)
    # Core training required of everyone, repeated every `refresh_months` when set.
    required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    refresh_months: Mapped[int | None] = mapped_column(Integer)
    develops: Mapped[list] = mapped_column(JSON)  # element / skill / value keys
    # Element keys the module develops, directly or through one of the element's skills.
    element_keys: Mapped[list] = mapped_column(JSON)

    version: Mapped[FrameworkVersion] = relationship(back_populates="modules")

    @property
    def is_local(self) -> bool:
        return self.provider == LOCAL_PROVIDER

    @property
    def provider_label(self) -> str:
        return "Local course run by your service" if self.is_local else self.provider


class Criterion(_VersionedItem, Model):
    """A person-specification criterion."""

    __tablename__ = "spec_criterion"
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    version_id: Mapped[int] = mapped_column(ForeignKey("framework_version.id"), index=True)
    spec_key: Mapped[str] = mapped_column(String(80))
    spec_title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    # The words the source sets above the run of criteria this one belongs to, if any.
    lead_in: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(200))
    requirement: Mapped[str] = mapped_column(String(20))  # essential / desirable
    assessed_by: Mapped[list] = mapped_column(JSON)
    links: Mapped[list] = mapped_column(JSON)  # element / value keys

    version: Mapped[FrameworkVersion] = relationship(back_populates="criteria")

    @property
    def full_text(self) -> str:
        """The criterion as read on its own: its lead-in (if any), then its text."""
        return criterion_full_text(self.lead_in, self.text)
