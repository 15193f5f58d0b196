"""The packages are layers: a module may import its own layer and the ones below, never above.

Every module of `competency_app` is parsed (imports inside functions included) and each
import of another package of the application is checked against `LAYERS`. The order is
the one docs/architecture.md draws; a new package must be given its place here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import competency_app

PACKAGE_DIR = Path(competency_app.__file__).resolve().parent

# Lowest first. The ground floor knows no feature; each feature may use the features below
# it; ui/ (pages across features, the demo) and the application factory sit on top.
LAYERS: list[set[str]] = [
    {"common", "config", "extensions", "database", "clock", "routing"},  # the ground floor
    {"migrations"},  # Alembic's scripts: the ground floor's column types and checks only
    {"accounts"},
    {"jobs"},  # the queue, job records, progress, result files
    {"notifications"},  # outbox, email, preferences, the reminder-source registry
    {"framework"},  # its pages carry accounts' @access
    {"assessments"},
    {"training"},  # completions and assigned modules
    {"supervision"},  # sessions, the review cycle's due dates, the supervision record
    {"coverage"},
    {"exports"},
    {"recruitment"},
    {"reminders"},  # reminder sources across features, send-reminders
    {"operations"},  # backup and seed-scale read and write the features; no feature uses it
    {"api"},  # the JSON API and its tokens: reads the features, as the pages do
    {"privacy"},  # a person's data across every feature: its copy and its erasure
    {"regional"},  # a collaborative's figures: reads the features; its endpoint is on api's
    {"ui"},
    {"__init__"},  # the application factory
]
FEATURES = {
    "accounts",
    "jobs",
    "notifications",
    "framework",
    "assessments",
    "training",
    "supervision",
    "coverage",
    "exports",
    "recruitment",
    "reminders",
    "regional",
}
RANK = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}


def part_of(module: str) -> str | None:
    """'competency_app.ui.filters' -> 'ui'; 'competency_app' -> '__init__'."""
    names = module.split(".")
    if names[0] != "competency_app":
        return None
    return names[1] if len(names) > 1 else "__init__"


def imported_modules(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, nested ones included."""
    module = ".".join(path.relative_to(root.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing package
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((node.lineno, name))
            # `from competency_app import ui` names a package too
            found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names]
    return found


def upward_imports(root: Path = PACKAGE_DIR) -> list[str]:
    problems = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root.parent)
        own = part_of(".".join(relative.with_suffix("").parts).removesuffix(".__init__"))
        if own is None or own not in RANK:
            problems.append(f"{relative}: the package {own!r} has no place in LAYERS")
            continue
        seen = set()
        for line, name in imported_modules(path, root):
            target = part_of(name)
            if target is None or target == own or target not in RANK or (line, target) in seen:
                continue  # outside the app, the same package, or already reported
            seen.add((line, target))
            where = f"{relative}:{line}"
            if own in FEATURES and target == "ui":
                problems.append(f"{where}: a feature imports ui/ ({name})")
            elif RANK[target] > RANK[own]:
                problems.append(f"{where}: {own} imports the higher layer {target} ({name})")
    return problems


def test_no_module_imports_a_higher_layer():
    problems = upward_imports()
    assert not problems, "\n".join(problems)


def test_the_check_sees_a_feature_importing_ui(tmp_path):
    """The check itself: a copy of the package with one upward import added fails."""
    copy = tmp_path / "competency_app"
    for path in PACKAGE_DIR.rglob("*.py"):
        target = copy / path.relative_to(PACKAGE_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    workbooks = copy / "exports" / "workbooks.py"
    workbooks.write_text(
        workbooks.read_text(encoding="utf-8") + "\nfrom competency_app.ui.filters import uk_date\n",
        encoding="utf-8",
    )
    nested = copy / "accounts" / "models.py"
    nested.write_text(
        nested.read_text(encoding="utf-8")
        + "\n\ndef _late():\n    from competency_app.assessments.models import Assessment\n",
        encoding="utf-8",
    )
    problems = upward_imports(copy)
    assert any(
        p.startswith("competency_app/exports/workbooks.py:") and "a feature imports ui/" in p
        for p in problems
    ), problems
    assert any(
        p.startswith("competency_app/accounts/models.py:") and "higher layer assessments" in p
        for p in problems
    ), problems
    assert len(problems) == 2, problems
