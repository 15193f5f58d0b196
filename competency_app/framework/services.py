"""Framework writes (loading a version) and queries (current version, comparisons)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import g, has_request_context
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from competency_app.accounts.services import record
from competency_app.clock import utcnow
from competency_app.common.caches import per_process_cache
from competency_app.extensions import db
from competency_app.framework.loader import content_hash
from competency_app.framework.models import (
    Competency,
    CoreValue,
    Criterion,
    Element,
    FrameworkVersion,
    Module,
    Skill,
    Task,
)
from competency_app.framework.schema import FrameworkDocument, Words, read_earlier_version
from competency_app.framework.settings import forget_cached_settings


@dataclass(frozen=True)
class LoadResult:
    version: FrameworkVersion
    created: bool
    # what the load did to what people hold (the counts its audit event records)
    effects: dict[str, Any] = field(default_factory=dict)


# What runs once a new version's rows are written, in the same transaction, given the new
# version and the one loaded before it (None for the first); each returns counts for the
# load's audit event. Registered by the layers above (`assessments/reworded.py`: the
# validations of reworded skills), which this module cannot import.
_AFTER_LOAD: list[Callable[[FrameworkVersion, FrameworkVersion | None], dict[str, Any]]] = []


def after_version_loaded(
    callback: Callable[[FrameworkVersion, FrameworkVersion | None], dict[str, Any]],
) -> None:
    """Have `callback(version, previous)` run after `load_framework` has written a new
    version, before its audit event (which records the counts it returns)."""
    _AFTER_LOAD.append(callback)


def load_framework(document: FrameworkDocument, source_name: str, loaded_by: str) -> LoadResult:
    """Store `document` as a new framework version, or return the identical one.

    A skill the file marks `revalidate: true` is stored so only when its text differs from
    the version loaded before (else the mark means nothing). Flushes only: the caller
    commits, so a load applies whole or not at all.
    """
    digest = content_hash(document)
    existing = db.session.scalar(
        select(FrameworkVersion).where(FrameworkVersion.content_hash == digest)
    )
    if existing is not None:
        return LoadResult(existing, created=False)
    previous = db.session.scalar(_LATEST)
    earlier_texts: dict[str, str] = (
        {}
        if previous is None
        else dict(
            db.session.execute(
                select(Skill.key, Skill.text).where(Skill.version_id == previous.id)
            ).all()
        )
    )

    number = (db.session.scalar(select(func.max(FrameworkVersion.number))) or 0) + 1
    version = FrameworkVersion(
        number=number,
        label=document.metadata.version_label,
        title=document.metadata.title,
        content_hash=digest,
        source_name=source_name[:300],
        loaded_at=utcnow(),
        loaded_by=loaded_by[:200],
        document=document.model_dump(mode="json"),
    )
    db.session.add(version)
    db.session.flush()

    rules = document.rules
    everyone = set(rules.expected_of_everyone)
    for position, value in enumerate(document.core_values):
        db.session.add(
            CoreValue(
                version_id=version.id,
                key=value.id,
                position=position,
                title=value.title,
                description=value.description,
            )
        )
    element_keys_of_skill: dict[str, str] = {}
    element_position = 0
    for c_position, comp in enumerate(document.competencies):
        competency = Competency(
            version_id=version.id,
            key=comp.id,
            position=c_position,
            number=comp.number,
            title=comp.title,
            overarching=comp.overarching,
            introduction=comp.introduction,
        )
        db.session.add(competency)
        db.session.flush()
        for source in comp.elements:
            element = Element(
                version_id=version.id,
                competency_id=competency.id,
                key=source.id,
                position=element_position,
                label=source.label,
                short_label=source.short_label,
                title=source.title,
                alt_title=source.alt_title,
                min_holders=source.min_holders or rules.default_min_holders,
                expected_of_everyone=source.id in everyone,
                areas_kind=source.areas_kind,
                areas=[area.model_dump(mode="json") for area in source.areas],
                closing_statement=source.closing_statement,
                source_notes=source.source_notes,
            )
            element_position += 1
            db.session.add(element)
            db.session.flush()
            db.session.add_all(
                Skill(
                    version_id=version.id,
                    element_id=element.id,
                    key=skill.id,
                    position=position,
                    text=skill.text,
                    enhanced=skill.enhanced,
                    area=skill.area,
                    revalidate=skill.revalidate
                    and skill.id in earlier_texts
                    and earlier_texts[skill.id] != skill.text,
                )
                for position, skill in enumerate(source.skills)
            )
            db.session.add_all(
                Task(
                    version_id=version.id,
                    element_id=element.id,
                    key=task.id,
                    position=position,
                    text=task.text,
                )
                for position, task in enumerate(source.tasks)
            )
            element_keys_of_skill.update({skill.id: source.id for skill in source.skills})

    element_keys = {element.id for element in document.elements()}
    for position, module in enumerate(document.elearning):
        developed = []
        for ref in module.develops:
            key = ref if ref in element_keys else element_keys_of_skill.get(ref)
            if key and key not in developed:
                developed.append(key)
        db.session.add(
            Module(
                version_id=version.id,
                key=module.id,
                position=position,
                title=module.title,
                provider=module.provider,
                url=module.url,
                duration_minutes=module.duration_minutes,
                description=module.description,
                source=module.source,
                required=module.required,
                refresh_months=module.refresh_months,
                develops=list(module.develops),
                element_keys=developed,
            )
        )
    position = 0
    for spec in document.person_specifications:
        for criterion in spec.criteria:
            db.session.add(
                Criterion(
                    version_id=version.id,
                    key=criterion.id,
                    position=position,
                    spec_key=spec.id,
                    spec_title=spec.title,
                    text=criterion.text,
                    lead_in=criterion.lead_in,
                    category=criterion.category,
                    requirement=criterion.requirement,
                    assessed_by=list(criterion.assessed_by),
                    links=list(criterion.links),
                )
            )
            position += 1
    db.session.flush()
    counts: dict[str, Any] = {}
    for callback in _AFTER_LOAD:
        counts.update(callback(version, previous))
    record(
        "framework_loaded",
        None,
        target=f"framework:{version.number}",
        version=version.number,
        content_hash=digest,
        source=source_name[:100],
        actor_label=loaded_by[:200],
        **counts,
    )
    if has_request_context():
        g.pop("framework_words", None)
    return LoadResult(version, created=True, effects=counts)


def document_of(version: FrameworkVersion) -> FrameworkDocument:
    """The version's whole stored document as the schema's model (to export it); a rule or
    a label is read through `version.settings`, never from here. A version stored from a
    file of an earlier schema_version is exported as the current version reads it."""
    return FrameworkDocument.model_validate(read_earlier_version(version.document)[0])


def current_version(structure: bool = False) -> FrameworkVersion | None:
    """The most recently loaded framework version.

    `structure=True` returns it with every item loaded, from a per-process cache (see
    `version_structure`), for read-only pages that walk the whole framework: the cache key's
    three columns are read first, so a cached version costs no row object and no decoding
    of its document.
    """
    latest = _LATEST
    if structure:
        key = db.session.execute(_LATEST_KEY).first()
        if key is None:
            return None
        cached = _STRUCTURES.get(tuple(key))
        if cached is not None:
            return cached
    version = db.session.scalar(latest)
    if structure and version is not None:
        return version_structure(version)
    return version


def current_words() -> Words:
    """The current version's words for the practitioner role (plain ones before any).

    Read once a request: a page asks for them each time it names a role (a list of people
    names many), and each read would otherwise ask the database for the current version.
    """
    if has_request_context() and "framework_words" in g:
        words: Words = g.framework_words
        return words
    version = current_version(structure=True)
    words = version.settings.words if version is not None else Words()
    if has_request_context():
        g.framework_words = words
    return words


_STRUCTURES: dict[tuple, FrameworkVersion] = {}
# A cached structure's key: a loaded version never changes, and ids can be reused.
_STRUCTURE_KEY_COLUMNS = (
    FrameworkVersion.id,
    FrameworkVersion.content_hash,
    FrameworkVersion.loaded_at,
)


# Built once: every page asks for the current version (building a statement costs more
# than running this one).
_LATEST = select(FrameworkVersion).order_by(FrameworkVersion.number.desc()).limit(1)
_LATEST_KEY = _LATEST.with_only_columns(*_STRUCTURE_KEY_COLUMNS)


def forget_cached_structures() -> None:
    """For tests that empty the database between cases (see `caches.clear_caches`)."""
    _STRUCTURES.clear()
    forget_cached_settings()


per_process_cache("framework structures", forget_cached_structures)


def version_structure(version: FrameworkVersion) -> FrameworkVersion:
    """The version with all its items loaded and detached from any session, cached.

    A loaded version never changes, so one copy per process serves every request: this
    saves ~5 ms a page of loading ~150 rows as objects. The copy is loaded in a session of
    its own on the request's connection (it sees the request's transaction, and its objects
    never share an identity map with the request's), then detached with every attribute and
    both sides of every relationship populated. It is for reading only: never add its
    objects to a session or assign them to relationships (use their ids).
    """
    return structure_of(tuple(getattr(version, column.key) for column in _STRUCTURE_KEY_COLUMNS))


def structure_of(key: tuple) -> FrameworkVersion:
    """`version_structure` of the version whose (id, content hash, loaded at) is `key`, for a
    caller that read those columns without the version's row (the sign-off)."""
    cached = _STRUCTURES.get(key)
    if cached is not None:
        return cached
    with Session(bind=db.session.connection()) as session:
        loaded = session.scalar(
            select(FrameworkVersion)
            .where(FrameworkVersion.id == key[0])
            .options(
                selectinload(FrameworkVersion.competencies)
                .selectinload(Competency.elements)
                .options(selectinload(Element.skills), selectinload(Element.tasks)),
                selectinload(FrameworkVersion.values),
                selectinload(FrameworkVersion.modules),
                selectinload(FrameworkVersion.criteria),
            )
        )
        assert loaded is not None  # the key was read from a stored row
        # Many-to-one sides resolve from the identity map, without SQL, while attached.
        items: list[Any] = [*loaded.values, *loaded.modules, *loaded.criteria]
        parents = [item.version for item in items]
        for competency in loaded.competencies:
            parents.append(competency.version)
            for element in competency.elements:
                parents.append(element.competency)
                parts: list[Any] = [*element.skills, *element.tasks]
                parents.extend(item.element for item in parts)
        session.expunge_all()
    if len(_STRUCTURES) >= 4:  # the current version, and a few that assessments still use
        _STRUCTURES.pop(next(iter(_STRUCTURES)))
    _STRUCTURES[key] = loaded
    return loaded


def link_titles(version: FrameworkVersion) -> dict[str, str]:
    """What a person-specification criterion's links name: element or value titles."""
    titles = {e.key: f"{e.key} {e.title}" for c in version.competencies for e in c.elements}
    titles.update({v.key: f"{v.title} (value)" for v in version.values})
    return titles


def list_versions() -> list[FrameworkVersion]:
    return list(
        db.session.scalars(select(FrameworkVersion).order_by(FrameworkVersion.number.desc()))
    )


def version_by_number(number: int) -> FrameworkVersion | None:
    return db.session.scalar(select(FrameworkVersion).where(FrameworkVersion.number == number))


def element_by_key(version: FrameworkVersion, key: str) -> Element | None:
    return db.session.scalar(
        select(Element).where(Element.version_id == version.id, Element.key == key)
    )


def modules_for_element(version: FrameworkVersion, element: Element) -> list[Module]:
    """Modules that develop the element or one of its skills (in catalogue order)."""
    return [module for module in version.modules if element.key in module.element_keys]


def criteria_for_element(version: FrameworkVersion, element: Element) -> list[Criterion]:
    return [criterion for criterion in version.criteria if element.key in criterion.links]


# ---- comparing two versions -------------------------------------------------------------

KIND_LABELS = {
    "value": "Core value",
    "competency": "Competency",
    "element": "Element",
    "area": "Area",
    "skill": "Skill",
    "task": "Related task",
    "module": "E-learning module",
    "criterion": "Person-specification criterion",
    "setting": "Setting",
}


@dataclass(frozen=True)
class Change:
    kind: str
    key: str
    change: str  # added / removed / reworded
    old: dict[str, object] = field(default_factory=dict)
    new: dict[str, object] = field(default_factory=dict)

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def changed_fields(self) -> list[str]:
        return sorted(
            k for k in set(self.old) | set(self.new) if self.old.get(k) != self.new.get(k)
        )


def _flatten(document: dict) -> dict[tuple[str, str], dict[str, object]]:
    """Every item of a stored document, by (kind, stable key), with its comparable fields."""
    items: dict[tuple[str, str], dict[str, object]] = {}
    for value in document["core_values"]:
        items[("value", value["id"])] = {k: v for k, v in value.items() if k != "id"}
    for comp in document["competencies"]:
        items[("competency", comp["id"])] = {
            k: v for k, v in comp.items() if k not in ("id", "elements")
        }
        for element in comp["elements"]:
            # An optional field left out (None) is no change, so a document stored before
            # the field existed compares equal to one that leaves it out.
            items[("element", element["id"])] = {
                k: v
                for k, v in element.items()
                if k not in ("id", "skills", "tasks", "areas") and v is not None
            }
            for area in element["areas"]:
                items[("area", area["id"])] = {k: v for k, v in area.items() if k != "id"}
            for skill in element["skills"]:
                # `revalidate` says how a rewording applies, not what the skill is: the
                # effects of a change (`change_effects`) tell it.
                items[("skill", skill["id"])] = {
                    k: v for k, v in skill.items() if k not in ("id", "revalidate")
                }
            for task in element["tasks"]:
                items[("task", task["id"])] = {"text": task["text"]}
    for module in document["elearning"]:
        items[("module", module["id"])] = {k: v for k, v in module.items() if k != "id"}
    for spec in document["person_specifications"]:
        for criterion in spec["criteria"]:
            items[("criterion", criterion["id"])] = {
                k: v for k, v in criterion.items() if k != "id"
            }
    for section in ("rating_scale", "rules", "interview_scoring", "metadata"):
        items[("setting", section)] = {"value": document[section]}
    return items


def compare_versions(old: FrameworkVersion, new: FrameworkVersion) -> list[Change]:
    """Items added, removed or reworded between two versions, in the newer one's order."""
    before, after = _flatten(old.document), _flatten(new.document)
    changes: list[Change] = []
    for ident, fields in after.items():
        if ident not in before:
            changes.append(Change(ident[0], ident[1], "added", new=fields))
        elif before[ident] != fields:
            changes.append(Change(ident[0], ident[1], "reworded", old=before[ident], new=fields))
    for ident, fields in before.items():
        if ident not in after:
            changes.append(Change(ident[0], ident[1], "removed", old=fields))
    return changes


# What a change does to what people hold, from the layers above (`assessments/reworded.py`:
# the validations a reworded skill affects), which this module cannot import.
_EFFECTS: list[Callable[[FrameworkVersion, FrameworkVersion, list[Change]], dict[str, str]]] = []


def describe_effects(
    callback: Callable[[FrameworkVersion, FrameworkVersion, list[Change]], dict[str, str]],
) -> None:
    """Have `callback(old, new, changes)` say, by item key, what a change affects."""
    _EFFECTS.append(callback)


def change_effects(
    old: FrameworkVersion, new: FrameworkVersion, changes: list[Change]
) -> dict[str, str]:
    """A sentence per changed item that affects something people hold, by item key."""
    effects: dict[str, str] = {}
    for callback in _EFFECTS:
        effects.update(callback(old, new, changes))
    return effects
