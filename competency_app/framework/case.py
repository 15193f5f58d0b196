"""The framework as a 1EdTech CASE 1.1 package (JSON), and back.

`to_case(document)` writes a CFPackage: the CFDocument, one CFItem per core value,
competency, element, skill and task (its `CFItemType` says which; `humanCodingScheme` keeps
the framework's stable id, `1a.s3`), and one `isChildOf` CFAssociation per item (value and
competency → document, element → competency, skill and task → element, in order by
`sequenceNumber`). Identifiers are UUID v5 from the framework's title and each item's stable
id, so the same framework always exports the same identifiers and a reworded skill keeps
its identifier.

What CASE has no field for travels in the package's `extensions` under `EXTENSION`: every
section of the file but its metadata and its items' tree (the rating scale, the rules, the
supervision cycle, the e-learning catalogue, the person specifications, the interview
scoring, and any section the schema gains: `SETTINGS` is read from the schema), and per
item the few attributes of the YAML model without a CASE home (an element's areas and
minimum holders, a skill's area, "enhanced" mark and "revalidate" mark (written only when
set), a competency's "overarching").
`from_case(raw)` reads such a package back into the YAML model (`schema.FrameworkDocument`),
so a round trip YAML → CASE → YAML gives the same content hash. A package from another tool
without those extensions, or with items this model has no place for, is refused with a
message per problem (`FrameworkFileError`, as a YAML file's problems are).

The JSON is held to the YAML file's bounds before anything is built from it: nesting at
most `MAX_DEPTH` deep and numbers within `MAX_INTEGER` (both found by a scan of the text,
since `json.loads` recurses and Python refuses to build an int of over 4,300 digits), no
duplicate keys, no NUL or lone surrogate in any text, and every value of the type its
field holds (`strict` validation: no "3" for 3, no 3 for "3").
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from competency_app.framework.loader import (
    BAD_TEXT,
    MAX_DEPTH,
    MAX_INTEGER,
    FrameworkFileError,
    Problem,
    bad_text_message,
)
from competency_app.framework.schema import FrameworkDocument, read_earlier_version

EXTENSION = "keyworkingCompetencyTracker"
# The namespace of every identifier this application writes; a framework's own namespace is
# derived from it and the framework's title.
APP_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:keyworking-competency-tracker:case")
ITEM_TYPES = {
    "value": ("Core value", "The values every keyworker is expected to hold."),
    "competency": ("Competency", "A competency of the framework: a group of elements."),
    "element": ("Element", "An element of a competency, met by the team as a whole."),
    "skill": ("Skill", "A skill to be demonstrated, rated and validated in supervision."),
    "task": ("Task", "A task related to an element."),
}
KIND_BY_TYPE = {title.casefold(): kind for kind, (title, _text) in ITEM_TYPES.items()}
# an element's attributes with no CASE field, carried in its item's extension
ELEMENT_EXTRAS = {"min_holders", "areas_kind", "areas", "closing_statement"}
# the file's sections with no CASE home: in the package's extension under the same names
# (every top-level section but the two the CFDocument and the CFItems carry, and the two
# written beside them)
SETTINGS = tuple(
    name
    for name in FrameworkDocument.model_fields
    if name not in {"schema_version", "metadata", "core_values", "competencies"}
)
CHILD_OF = {
    "value": "document",
    "competency": "document",
    "element": "competency",
    "skill": "element",
    "task": "element",
}


def framework_namespace(document: FrameworkDocument) -> uuid.UUID:
    return uuid.uuid5(APP_NAMESPACE, document.metadata.title)


def _uuid(namespace: uuid.UUID, key: str) -> str:
    return str(uuid.uuid5(namespace, key))


def _link(title: str, identifier: str) -> dict[str, str]:
    return {"title": title, "identifier": identifier, "uri": f"urn:uuid:{identifier}"}


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


# ---- YAML model → CASE ------------------------------------------------------------------


def to_case(document: FrameworkDocument, changed_at: datetime | None = None) -> dict:
    """The CFPackage of `document` (a dict ready for `json.dumps`)."""
    namespace = framework_namespace(document)
    when = (changed_at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    doc_id = str(namespace)
    doc_link = _link(document.metadata.title, doc_id)
    types = {kind: _uuid(namespace, f"item-type:{kind}") for kind in ITEM_TYPES}
    items: list[dict] = []
    associations: list[dict] = []

    def add(kind: str, key: str, parent: tuple[str, str], sequence: int, **fields) -> str:
        identifier = _uuid(namespace, key)
        title = ITEM_TYPES[kind][0]
        items.append(
            _without_none(
                {
                    "identifier": identifier,
                    "uri": f"urn:uuid:{identifier}",
                    "CFItemType": title,
                    "CFItemTypeURI": _link(title, types[kind]),
                    "humanCodingScheme": key,
                    "language": "en",
                    "lastChangeDateTime": when,
                    **fields,
                }
            )
        )
        parent_title, parent_id = parent
        associations.append(
            {
                "identifier": _uuid(namespace, f"isChildOf:{key}"),
                "associationType": "isChildOf",
                "sequenceNumber": sequence,
                "uri": f"urn:uuid:{_uuid(namespace, f'isChildOf:{key}')}",
                "originNodeURI": _link(key, identifier),
                "destinationNodeURI": _link(parent_title, parent_id),
                "lastChangeDateTime": when,
            }
        )
        return identifier

    top = (document.metadata.title, doc_id)
    for n, value in enumerate(document.core_values, 1):
        add(
            "value",
            value.id,
            top,
            n,
            abbreviatedStatement=value.title,
            fullStatement=value.description,
        )
    for n, competency in enumerate(document.competencies, len(document.core_values) + 1):
        competency_id = add(
            "competency",
            competency.id,
            top,
            n,
            fullStatement=competency.title,
            listEnumeration=str(competency.number),
            notes=competency.introduction,
            extensions={EXTENSION: {"overarching": competency.overarching}},
        )
        for e, element in enumerate(competency.elements, 1):
            element_id = add(
                "element",
                element.id,
                (competency.id, competency_id),
                e,
                fullStatement=element.title,
                listEnumeration=element.label,
                abbreviatedStatement=element.short_label,
                alternativeLabel=element.alt_title,
                notes=element.source_notes,
                extensions={
                    EXTENSION: element.model_dump(
                        mode="json",
                        include=ELEMENT_EXTRAS,
                    )
                },
            )
            for s, skill in enumerate(element.skills, 1):
                add(
                    "skill",
                    skill.id,
                    (element.id, element_id),
                    s,
                    fullStatement=skill.text,
                    extensions={
                        EXTENSION: {
                            "enhanced": skill.enhanced,
                            "area": skill.area,
                            **({"revalidate": True} if skill.revalidate else {}),
                        }
                    },
                )
            for t, task in enumerate(element.tasks, len(element.skills) + 1):
                add("task", task.id, (element.id, element_id), t, fullStatement=task.text)
    metadata = document.metadata
    return {
        "CFDocument": _without_none(
            {
                "identifier": doc_id,
                "uri": doc_link["uri"],
                "frameworkType": "Workforce competency framework",
                "caseVersion": "1.1",
                "creator": metadata.publisher,
                "title": metadata.title,
                "lastChangeDateTime": when,
                "publisher": metadata.publisher,
                "description": metadata.notes,
                "language": "en",
                "version": metadata.version_label,
                "notes": metadata.source,
            }
        ),
        "CFItems": items,
        "CFAssociations": associations,
        "CFDefinitions": {
            "CFItemTypes": [
                {
                    "identifier": types[kind],
                    "uri": f"urn:uuid:{types[kind]}",
                    "title": title,
                    "description": description,
                    "hierarchyCode": str(level),
                    "lastChangeDateTime": when,
                }
                for level, (kind, (title, description)) in enumerate(ITEM_TYPES.items(), 1)
            ]
        },
        "extensions": {
            EXTENSION: {
                "schema_version": document.schema_version,
                "short_title": metadata.short_title,
                **document.model_dump(mode="json", include=set(SETTINGS)),
            }
        },
    }


# ---- CASE → YAML model ------------------------------------------------------------------

# A string, a bracket or a number, in the order they come (text inside strings is skipped).
_TOKENS = re.compile(r'"(?:[^"\\]++|\\.)*+"|[\[\]{}]|-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?')
_LONGEST_NUMBER = 40  # characters: far beyond MAX_INTEGER, or any float a framework holds
_DIGITS = re.compile(r"[0-9]{1,9}")  # a competency's number; str.isdigit takes "²" too
# the text fields of a CFItem and of the CFDocument that this mapping reads
ITEM_TEXT = (
    "identifier",
    "CFItemType",
    "humanCodingScheme",
    "fullStatement",
    "abbreviatedStatement",
    "alternativeLabel",
    "listEnumeration",
    "notes",
)
DOCUMENT_TEXT = (
    "identifier",
    "title",
    "creator",
    "publisher",
    "notes",
    "officialSourceURL",
    "version",
    "description",
)


class _Refusal:
    """Problems found while mapping, each with the JSON path it concerns."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.problems: list[Problem] = []

    def add(
        self, path: str, message: str, line: int | None = None, column: int | None = None
    ) -> None:
        self.problems.append(Problem(path, line, column, message))

    def raise_if_any(self) -> None:
        if self.problems:
            raise FrameworkFileError(self.name, self.problems)


def _object(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _text(item: dict, field: str) -> str | None:
    value = item.get(field)
    return value if isinstance(value, str) else None


def _position(text: str, offset: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def _scan(text: str, refusal: _Refusal) -> None:
    """Refuse nesting deeper than MAX_DEPTH and numbers out of bounds, with their line and
    column, before `json.loads` builds anything."""
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token[0] == '"':
            continue
        if token in ("[", "{"):
            depth += 1
            if depth > MAX_DEPTH:
                where = _position(text, match.start())
                refusal.add("", f"nesting deeper than {MAX_DEPTH} levels", *where)
                return
        elif token in ("]", "}"):
            depth -= 1
        elif (
            len(token) > _LONGEST_NUMBER
            or (token.lstrip("-").isdecimal() and abs(int(token)) > MAX_INTEGER)
            or not math.isfinite(float(token))
        ):
            refusal.add(
                "",
                f"the number {token[:20]}{'…' if len(token) > 20 else ''} is out of range "
                f"(at most {MAX_INTEGER:,} either side of zero)",
                *_position(text, match.start()),
            )
            return


class _Object(dict):
    """A JSON object, with the keys that came more than once."""

    duplicates: tuple[str, ...] = ()


def _object_pairs(pairs: list[tuple[str, Any]]) -> _Object:
    result = _Object(pairs)
    if len(result) < len(pairs):
        keys = [key for key, _value in pairs]
        result.duplicates = tuple(sorted({key for key in keys if keys.count(key) > 1}))
    return result


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _check_values(package: Any, refusal: _Refusal) -> None:
    """Duplicate keys, and NUL or lone surrogates in any key or text, by their JSON path."""
    todo: list[tuple[tuple[str | int, ...], Any]] = [((), package)]
    while todo:
        path, value = todo.pop()
        where = ".".join(str(part) for part in path)
        if isinstance(value, str):
            if BAD_TEXT.search(value):
                refusal.add(where, bad_text_message(value))
        elif isinstance(value, dict):
            for key in getattr(value, "duplicates", ()):
                refusal.add(f"{where}.{key}".lstrip("."), f"duplicate key {key!r}")
            for key, item in reversed(value.items()):
                if BAD_TEXT.search(key):
                    refusal.add(where, f"a key: {bad_text_message(key)}")
                todo.append(((*path, key), item))
        elif isinstance(value, list):
            todo.extend(((*path, i), item) for i, item in reversed(list(enumerate(value))))


def _parse(raw: bytes, refusal: _Refusal) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        refusal.add("", f"not a JSON file: not valid UTF-8 (byte {exc.start})")
        refusal.raise_if_any()
    _scan(text, refusal)
    refusal.raise_if_any()
    try:
        package = json.loads(text, object_pairs_hook=_object_pairs, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        refusal.add("", f"not a JSON file: {exc.msg}", exc.lineno, exc.colno)
    except (ValueError, RecursionError) as exc:  # NaN or Infinity; nesting the scan missed
        refusal.add("", f"not a JSON file: {exc}")
    refusal.raise_if_any()
    _check_values(package, refusal)
    refusal.raise_if_any()
    return package


def _check_types(cf_document: dict, items: list, associations: list, refusal: _Refusal) -> None:
    """The CASE fields this mapping reads hold what CASE says they hold."""
    for field in DOCUMENT_TEXT:
        if field in cf_document and not isinstance(cf_document[field], str):
            refusal.add(f"CFDocument.{field}", "must be text")
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            refusal.add(f"CFItems.{i}", "each CFItem must be an object")
            continue
        for field in ITEM_TEXT:
            if field in item and not isinstance(item[field], str):
                refusal.add(f"CFItems.{i}.{field}", "must be text")
        number = item.get("listEnumeration")
        if (
            str(item.get("CFItemType", "")).casefold() == "competency"
            and isinstance(number, str)
            and not _DIGITS.fullmatch(number)
        ):
            refusal.add(
                f"CFItems.{i}.listEnumeration",
                f"a competency's listEnumeration is its number in digits 0-9, not {number[:20]!r}",
            )
    for i, association in enumerate(associations):
        if not isinstance(association, dict):
            refusal.add(f"CFAssociations.{i}", "each CFAssociation must be an object")
            continue
        sequence = association.get("sequenceNumber")
        if sequence is not None and type(sequence) is not int:
            refusal.add(f"CFAssociations.{i}.sequenceNumber", "must be a whole number")


def _package_path(location: tuple) -> str:
    """Where a problem the YAML model found is in the package: the extension's settings
    under their own names; the items' tree by the model's path (competencies.0.title)."""
    path = ".".join(str(part) for part in location)
    if location and location[0] in SETTINGS:
        return f"extensions.{EXTENSION}.{path}"
    return path


def from_case(raw: bytes, name: str = "framework.json") -> FrameworkDocument:
    """Read a CASE 1.1 package written by `to_case` (or by another tool, if it carries the
    same extensions) into the YAML model; `FrameworkFileError` lists every problem."""
    refusal = _Refusal(name)
    package = _parse(raw, refusal)
    if not isinstance(package, dict) or not isinstance(package.get("CFDocument"), dict):
        refusal.add("CFDocument", "a CASE package needs a CFDocument object")
        refusal.raise_if_any()
    cf_document = package["CFDocument"]
    settings = _object(_object(package.get("extensions")).get(EXTENSION))
    if not settings:
        refusal.add(
            f"extensions.{EXTENSION}",
            "this package has no rating scale, rules or person specification: CASE has no "
            "place for them, and this service cannot assess against a framework without "
            "them. Export the framework from this service, or add them under this extension",
        )
    raw_items = package.get("CFItems")
    raw_associations = package.get("CFAssociations")
    if not isinstance(raw_items, list) or not raw_items:
        refusal.add("CFItems", "the package has no CFItems")
    if not isinstance(raw_associations, list):
        refusal.add("CFAssociations", "the package has no CFAssociations (isChildOf)")
    refusal.raise_if_any()
    _check_types(cf_document, raw_items, raw_associations, refusal)
    refusal.raise_if_any()

    items: dict[str, dict] = {}
    kinds: dict[str, str] = {}
    for i, item in enumerate(raw_items):
        item = _object(item)
        identifier = _text(item, "identifier")
        item_type = (_text(item, "CFItemType") or "").casefold()
        where = f"CFItems.{i}"
        if identifier is None:
            refusal.add(where, "a CFItem has no identifier")
            continue
        if item_type not in KIND_BY_TYPE:
            allowed = ", ".join(title for title, _ in ITEM_TYPES.values())
            refusal.add(
                f"{where}.CFItemType",
                f"CFItemType {item.get('CFItemType')!r} has no place in this framework model "
                f"(it knows {allowed})",
            )
            continue
        if not _text(item, "humanCodingScheme"):
            refusal.add(
                f"{where}.humanCodingScheme",
                "every item needs its stable id (1a, 1a.s3, value.respect) in humanCodingScheme",
            )
            continue
        items[identifier] = item
        kinds[identifier] = KIND_BY_TYPE[item_type]

    doc_id = _text(cf_document, "identifier")
    children: dict[str, list[tuple[float, str]]] = defaultdict(list)
    parent_of: dict[str, str] = {}
    for i, association in enumerate(raw_associations or []):
        association = _object(association)
        if association.get("associationType") != "isChildOf":
            continue  # other relations (isRelatedTo, exactMatchOf…) have no place; ignored
        child = _text(_object(association.get("originNodeURI")), "identifier")
        parent = _text(_object(association.get("destinationNodeURI")), "identifier")
        if child not in items:
            continue  # a child refused above, or outside this package
        if child in parent_of:
            refusal.add(
                f"CFAssociations.{i}", f"{items[child]['humanCodingScheme']} has two parents"
            )
            continue
        sequence = association.get("sequenceNumber")
        parent_of[child] = parent or ""
        children[parent or ""].append(
            (sequence if isinstance(sequence, int | float) else float("inf"), child)
        )
    for identifier, kind in kinds.items():
        parent = parent_of.get(identifier)
        expected = CHILD_OF[kind]
        found = "document" if parent == doc_id else kinds.get(parent or "", "nothing")
        if found != expected:
            key = items[identifier]["humanCodingScheme"]
            refusal.add(
                f"CFItems.{key}",
                f"a {ITEM_TYPES[kind][0].lower()} must be isChildOf a {expected}; "
                f"{key} is a child of {found}",
            )
    refusal.raise_if_any()

    def ordered(parent: str, kind: str) -> list[dict]:
        found = sorted(children.get(parent, []), key=lambda pair: pair[0])
        return [items[child] | {"_id": child} for _seq, child in found if kinds[child] == kind]

    def ext(item: dict) -> dict:
        return _object(_object(item.get("extensions")).get(EXTENSION))

    data = {
        "schema_version": settings.get("schema_version"),
        "metadata": _without_none(
            {
                "title": cf_document.get("title"),
                "short_title": settings.get("short_title"),
                "publisher": cf_document.get("publisher") or cf_document.get("creator"),
                "source": cf_document.get("notes") or cf_document.get("officialSourceURL"),
                "version_label": cf_document.get("version"),
                "notes": cf_document.get("description"),
            }
        ),
        **{name: settings[name] for name in SETTINGS if name in settings},
        "core_values": [
            {
                "id": v["humanCodingScheme"],
                "title": v.get("abbreviatedStatement"),
                "description": v.get("fullStatement"),
            }
            for v in ordered(doc_id or "", "value")
        ],
        "competencies": [
            _without_none(
                {
                    "id": c["humanCodingScheme"],
                    "number": _number(c.get("listEnumeration")),
                    "title": c.get("fullStatement"),
                    "overarching": ext(c).get("overarching", False),
                    "introduction": c.get("notes"),
                    "elements": [
                        _without_none(
                            {
                                "id": e["humanCodingScheme"],
                                "label": e.get("listEnumeration"),
                                "short_label": e.get("abbreviatedStatement"),
                                "title": e.get("fullStatement"),
                                "alt_title": e.get("alternativeLabel"),
                                "source_notes": e.get("notes"),
                                **{k: v for k, v in ext(e).items() if k in ELEMENT_EXTRAS},
                                "skills": [
                                    _without_none(
                                        {
                                            "id": s["humanCodingScheme"],
                                            "text": s.get("fullStatement"),
                                            "enhanced": ext(s).get("enhanced", False),
                                            "area": ext(s).get("area"),
                                            "revalidate": ext(s).get("revalidate", False),
                                        }
                                    )
                                    for s in ordered(e["_id"], "skill")
                                ],
                                "tasks": [
                                    {"id": t["humanCodingScheme"], "text": t.get("fullStatement")}
                                    for t in ordered(e["_id"], "task")
                                ],
                            }
                        )
                        for e in ordered(c["_id"], "element")
                    ],
                }
            )
            for c in ordered(doc_id or "", "competency")
        ],
    }
    data, earlier = read_earlier_version(data)
    for path, message in earlier:
        refusal.add(f"extensions.{EXTENSION}.{_package_path(path)}", message)
    refusal.raise_if_any()
    try:  # strict: JSON gives each value its own type, which must be the field's
        document = FrameworkDocument.model_validate(data, strict=True)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            refusal.add(_package_path(tuple(error["loc"])), error["msg"])
        refusal.raise_if_any()
    for path, message in document.check_references():
        refusal.add(_package_path(tuple(path)), message)
    refusal.raise_if_any()
    return document


def _number(value: Any) -> Any:
    """A competency's number, kept in listEnumeration as text (digits 0-9 only: checked)."""
    return int(value) if isinstance(value, str) and _DIGITS.fullmatch(value) else value


def looks_like_case(raw: bytes) -> bool:
    """A JSON object (a CASE package) rather than a YAML framework file."""
    return raw.lstrip()[:1] == b"{"
