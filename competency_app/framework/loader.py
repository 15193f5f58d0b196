"""Safe parsing and validation of a framework YAML file.

`parse_framework(raw, name)` turns bytes into a validated `FrameworkDocument` or raises
`FrameworkFileError` listing every problem with its line, column and field path.

PyYAML's `safe_load` is not enough: aliases allow "billion laughs"
expansion and deep nesting overflows the stack. So the file is first streamed as events
through the C parser, which refuses aliases, explicit tags and excessive depth without any
recursion, and only then composed and converted by our own walk, which also refuses
duplicate keys and remembers where every value came from.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError

from competency_app.framework.schema import FrameworkDocument, read_earlier_version

MAX_DEPTH = 24
# No number in a framework (levels, months, holders, minutes) comes near this; a larger one
# is refused with its place before it is built (Python refuses to parse ints over 4,300
# digits, and the database columns are 32-bit).
MAX_INTEGER = 2**31 - 1
_INT_TAG = "tag:yaml.org,2002:int"
_STR_TAG = "tag:yaml.org,2002:str"
DEFAULT_MAX_BYTES = 2 * 1024 * 1024
# Text no database column takes the same way: a NUL (PostgreSQL refuses it, SQLite would
# store it) or half of a surrogate pair (not encodable as UTF-8). A YAML "\0" or a JSON
# "\u0000" escape writes one without a NUL byte in the file.
BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def bad_text_message(text: str) -> str:
    found = BAD_TEXT.search(text)
    if found and found.group() == "\x00":
        return "contains a NUL character"
    return "contains half of a surrogate pair (not a character)"


_Loader: type[yaml.SafeLoader]
try:  # the C parser is 5-7× faster; fall back so the app still runs without libyaml
    _Loader = yaml.CSafeLoader  # type: ignore[assignment]  # the same API, in C
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    path: str
    line: int | None
    column: int | None
    message: str

    def format(self, name: str) -> str:
        where = name
        if self.line is not None:
            where += f":{self.line}:{self.column}"
        field = f" {self.path}:" if self.path else ""
        return f"{where}:{field} {self.message}"


class FrameworkFileError(Exception):
    """Every problem found in a framework file; nothing has been loaded."""

    def __init__(self, name: str, problems: list[Problem]):
        self.name = name
        self.problems = problems
        super().__init__("\n".join(p.format(name) for p in problems))


def _mark_position(mark: Any) -> tuple[int | None, int | None]:
    # A yaml.Mark, the C parser's own Mark (the same fields), or None.
    if mark is None:
        return None, None
    return mark.line + 1, mark.column + 1


def _decode(raw: bytes, name: str) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise FrameworkFileError(
            name,
            [
                Problem(
                    "", line, column, f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})"
                )
            ],
        ) from None
    if "\x00" in text:
        raise FrameworkFileError(name, [Problem("", None, None, "the file contains NUL bytes")])
    return text.removeprefix("\ufeff")


def _scan_events(text: str, name: str) -> None:
    """Refuse aliases, anchors, explicit tags and deep nesting, streaming (no recursion)."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            line, column = _mark_position(event.start_mark)
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise FrameworkFileError(
                    name, [Problem("", line, column, "YAML anchors and aliases are not allowed")]
                )
            tag = getattr(event, "tag", None)
            implicit = getattr(event, "implicit", True)
            explicit = tag is not None and (
                not any(implicit) if isinstance(implicit, tuple) else not implicit
            )
            if explicit and tag not in ("!", "tag:yaml.org,2002:str"):
                raise FrameworkFileError(
                    name, [Problem("", line, column, f"YAML tags are not allowed ({tag})")]
                )
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise FrameworkFileError(
                        name,
                        [Problem("", line, column, f"nesting deeper than {MAX_DEPTH} levels")],
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as exc:
        line, column = _mark_position(exc.problem_mark)
        message = f"YAML syntax error: {exc.problem}"
        if "maximum nesting depth" in str(exc.problem):
            # libyaml's own limit (1,000 levels), met while it scans ahead of the events.
            message = f"nesting deeper than {MAX_DEPTH} levels"
        raise FrameworkFileError(name, [Problem("", line, column, message)]) from None
    except yaml.YAMLError as exc:
        raise FrameworkFileError(name, [Problem("", None, None, f"YAML error: {exc}")]) from None


class _Walker:
    """Converts composed nodes to Python data, recording the mark of every path."""

    def __init__(self, loader: yaml.SafeLoader, name: str):
        self.loader = loader
        self.name = name
        self.marks: dict[Path, yaml.Mark] = {}

    def convert(self, node: yaml.Node, path: Path) -> Any:
        self.marks[path] = node.start_mark
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag != _STR_TAG:  # checked before building it (a huge int)
                    shown = key_node.value if isinstance(key_node.value, str) else "a collection"
                    self._fail(path, key_node, f"keys must be text, not {shown[:40]!r}")
                key = self.loader.construct_object(key_node, deep=True)
                if key in result:
                    self._fail((*path, key), key_node, f"duplicate key {key!r}")
                result[key] = self.convert(value_node, (*path, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
        if node.tag == _INT_TAG and isinstance(node, yaml.ScalarNode):
            return self._integer(node, path)
        value = self.loader.construct_object(node, deep=True)
        if isinstance(value, str) and BAD_TEXT.search(value):
            self._fail(path, node, bad_text_message(value))
        return value

    def _integer(self, node: yaml.ScalarNode, path: Path) -> int:
        too_big = f"the number is out of range (at most {MAX_INTEGER:,} either side of zero)"
        if len(node.value) > 40:  # far beyond MAX_INTEGER in any notation: never build it
            self._fail(path, node, too_big)
        value = self.loader.construct_object(node, deep=True)
        if abs(value) > MAX_INTEGER:
            self._fail(path, node, too_big)
        return value

    def _fail(self, path: Path, node: yaml.Node, message: str) -> None:
        line, column = _mark_position(node.start_mark)
        raise FrameworkFileError(self.name, [Problem(_dotted(path), line, column, message)])

    def position(self, path: Path) -> tuple[int | None, int | None]:
        # Pydantic may point below the last node we saw (e.g. a missing field): walk up.
        while path and path not in self.marks:
            path = path[:-1]
        return _mark_position(self.marks.get(path))


def _dotted(path: Path) -> str:
    return ".".join(str(part) for part in path)


def parse_framework(
    raw: bytes, name: str = "framework.yaml", max_bytes: int = DEFAULT_MAX_BYTES
) -> FrameworkDocument:
    """Validate `raw` (the bytes of a framework file) and return the document.

    Raises `FrameworkFileError` naming the file, line, column and field path of each problem.
    """
    if len(raw) > max_bytes:
        raise FrameworkFileError(
            name,
            [
                Problem(
                    "", None, None, f"the file is {len(raw):,} bytes; the limit is {max_bytes:,}"
                )
            ],
        )
    text = _decode(raw, name)
    _scan_events(text, name)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:  # pragma: no cover - the event scan catches these
        line, column = _mark_position(exc.problem_mark)
        raise FrameworkFileError(name, [Problem("", line, column, str(exc.problem))]) from None
    finally:
        loader.dispose()
    if node is None:
        raise FrameworkFileError(name, [Problem("", 1, 1, "the file is empty")])
    walker = _Walker(loader, name)
    try:
        data = walker.convert(node, ())
    except yaml.constructor.ConstructorError as exc:
        line, column = _mark_position(exc.problem_mark)
        raise FrameworkFileError(name, [Problem("", line, column, str(exc.problem))]) from None
    if not isinstance(data, dict):
        raise FrameworkFileError(name, [Problem("", 1, 1, "the file must hold a mapping")])

    data, earlier = read_earlier_version(data)
    if earlier:
        raise FrameworkFileError(
            name,
            [Problem(_dotted(path), *walker.position(path), message) for path, message in earlier],
        )
    try:
        document = FrameworkDocument.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            path = tuple(error["loc"])
            line, column = walker.position(path)
            problems.append(Problem(_dotted(path), line, column, error["msg"]))
        raise FrameworkFileError(name, problems) from None

    reference_problems = document.check_references()
    if reference_problems:
        problems = []
        for path, message in reference_problems:
            line, column = walker.position(path)
            problems.append(Problem(_dotted(path), line, column, message))
        raise FrameworkFileError(name, problems)
    return document


def content_hash(document: FrameworkDocument) -> str:
    """Hash of the validated content: comments and layout changes do not make a new version."""
    canonical = json.dumps(document.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
