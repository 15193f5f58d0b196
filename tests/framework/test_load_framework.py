"""`flask load-framework`: refusals name the place and change nothing; versions and no-ops."""

from __future__ import annotations

import copy

import pytest
import yaml
from sqlalchemy import func, select

from competency_app.extensions import db
from competency_app.framework.loader import FrameworkFileError, parse_framework
from competency_app.framework.models import FrameworkVersion, Skill
from competency_app.framework.services import current_version


@pytest.fixture(scope="module")
def framework_data(framework_bytes) -> dict:
    return yaml.safe_load(framework_bytes)


def dump(data: dict) -> bytes:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000).encode()


def line_of(raw: bytes, needle: str) -> int:
    for number, line in enumerate(raw.decode().splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in file")


def version_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(FrameworkVersion))


def run_load(runner, tmp_path, raw: bytes, *args: str):
    path = tmp_path / "framework.yaml"
    path.write_bytes(raw)
    return runner.invoke(args=["load-framework", str(path), *args])


def with_unknown_field(data):
    data = copy.deepcopy(data)
    data["metadata"]["colour"] = "blue"
    return dump(data), "metadata.colour", "colour: blue"


def with_duplicate_skill_id(data):
    data = copy.deepcopy(data)
    skills = data["competencies"][0]["elements"][0]["skills"]
    skills[1]["id"] = skills[0]["id"]
    raw = dump(data)
    return raw, "competencies.0.elements.0.skills.1.id", skills[1]["text"][:40]


def with_unknown_skill_reference(data):
    data = copy.deepcopy(data)
    data["elearning"][0]["develops"].append("1a.s99")
    return dump(data), "elearning.0.develops", "1a.s99"


def with_unknown_coverage_rule(data):
    data = copy.deepcopy(data)
    data["rules"]["coverage_rule"] = "most_skills"
    return dump(data), "rules.coverage_rule", "coverage_rule: most_skills"


MUTATIONS = [
    with_unknown_field,
    with_duplicate_skill_id,
    with_unknown_skill_reference,
    with_unknown_coverage_rule,
]


@pytest.mark.parametrize("mutate", MUTATIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("check", [True, False], ids=["check", "load"])
def test_schema_errors_name_the_line_and_field_and_change_nothing(
    app, runner, tmp_path, framework_data, mutate, check
):
    raw, field_path, needle = mutate(framework_data)
    before = version_count(app)
    result = run_load(runner, tmp_path, raw, *(["--check"] if check else []))
    assert result.exit_code == 2, result.output
    assert field_path in result.output
    expected_line = line_of(raw, needle)
    assert f"framework.yaml:{expected_line}:" in result.output or (
        # a duplicate's message points at the id line, just above the text line
        f"framework.yaml:{expected_line - 1}:" in result.output
    ), result.output
    assert "nothing was loaded" in result.output
    assert version_count(app) == before


BAD_FILES = {
    "syntax error": (b"metadata:\n  title: [unclosed\nrules: 1\n", "syntax error", ":3:"),
    "alias bomb": (
        b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        b"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        b"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
        b"f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n",
        "anchors and aliases are not allowed",
        ":1:",
    ),
    "deep nesting": (b"x: " + b"[" * 50_000 + b"]" * 50_000 + b"\n", "nesting deeper", ":1:"),
    "python tag": (b"metadata: !!python/object/apply:os.system ['true']\n", "tags", ":1:"),
    "duplicate key": (
        b"schema_version: 1\nmetadata: {}\nschema_version: 1\n",
        "duplicate key 'schema_version'",
        ":3:1",
    ),
    "not utf-8": (b"schema_version: 1\nmetadata:\n  title: caf\xe9\n", "not valid UTF-8", ":3:"),
    "empty": (b"", "empty", ""),
    "a list": (b"- 1\n- 2\n", "must hold a mapping", ""),
    # Python refuses to build ints over 4,300 digits: this was a traceback and exit 1
    "5,001-digit integer": (b"schema_version: " + b"9" * 5001 + b"\n", "out of range", ":1:17"),
    "integer beyond the bound": (b"schema_version: 0x" + b"f" * 30 + b"\n", "out of range", ":1:"),
    "5,001-digit integer key": (
        b"metadata:\n  ? " + b"7" * 5001 + b"\n  : 1\n",
        "keys must be text",
        ":2:5",
    ),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_hostile_or_broken_files_are_refused_with_exit_2(app, runner, tmp_path, name):
    raw, message, where = BAD_FILES[name]
    before = version_count(app)
    result = run_load(runner, tmp_path, raw, "--check")
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert where in result.output
    result = run_load(runner, tmp_path, raw)
    assert result.exit_code == 2
    assert version_count(app) == before


def test_file_over_the_size_limit_is_refused_before_reading(app, runner, tmp_path):
    limit = app.config["FRAMEWORK_MAX_BYTES"]
    result = run_load(runner, tmp_path, b"# padding\n" * (limit // 10 + 1))
    assert result.exit_code == 2
    assert "the limit is" in result.output
    assert version_count(app) == 0


def test_missing_file_is_exit_2(runner, tmp_path):
    result = runner.invoke(args=["load-framework", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "cannot read" in result.output


def test_parse_errors_collect_every_schema_problem(framework_data):
    data = copy.deepcopy(framework_data)
    data["metadata"]["colour"] = "blue"
    del data["rules"]["validity_months"]
    with pytest.raises(FrameworkFileError) as caught:
        parse_framework(dump(data), "f.yaml")
    paths = {problem.path for problem in caught.value.problems}
    assert {"metadata.colour", "rules.validity_months"} <= paths


def test_check_loads_nothing_and_load_creates_version_1(app, runner, tmp_path, framework_bytes):
    result = run_load(runner, tmp_path, framework_bytes, "--check")
    assert result.exit_code == 0, result.output
    assert "valid" in result.output
    assert version_count(app) == 0

    result = run_load(runner, tmp_path, framework_bytes)
    assert result.exit_code == 0, result.output
    assert "framework version 1" in result.output
    with app.app_context():
        skills = db.session.scalar(select(func.count()).select_from(Skill))
    assert skills > 50


def test_identical_file_is_a_no_op_even_with_new_comments(app, runner, tmp_path, framework_bytes):
    assert run_load(runner, tmp_path, framework_bytes).exit_code == 0
    result = run_load(runner, tmp_path, b"# re-saved by an editor\n" + framework_bytes)
    assert result.exit_code == 0
    assert "identical to framework version 1" in result.output
    assert version_count(app) == 1


def test_edited_copy_becomes_version_2_and_version_1_stays(
    app, runner, tmp_path, framework_bytes, framework_data
):
    assert run_load(runner, tmp_path, framework_bytes).exit_code == 0
    data = copy.deepcopy(framework_data)
    data["metadata"]["version_label"] = "local edition"
    data["competencies"][0]["elements"][0]["skills"][0]["text"] = "Reworded skill."
    result = run_load(runner, tmp_path, dump(data))
    assert result.exit_code == 0, result.output
    assert "framework version 2" in result.output
    with app.app_context():
        texts = db.session.scalars(
            select(Skill.text).where(Skill.key == "1a.s1").order_by(Skill.version_id)
        ).all()
    assert texts[1] == "Reworded skill."
    assert texts[0] != texts[1]


def test_cached_structure_is_complete_detached_and_per_version(
    app, runner, tmp_path, framework, framework_data
):
    """The per-process copy reads without a session and never goes stale across versions."""
    with app.app_context():
        structure = current_version(structure=True)
        assert current_version(structure=True) is structure  # cached
        db.session.commit()
        db.session.remove()  # the request's session is gone; the copy still reads
        elements = [e for c in structure.competencies for e in c.elements]
        assert sum(len(e.skills) for e in elements) == 58
        assert all(s.element is e for e in elements for s in e.skills)
        assert all(e.competency.version is structure for e in elements)
        assert len(structure.modules) == 16 and len(structure.criteria) == 27
    data = copy.deepcopy(framework_data)
    data["competencies"][0]["elements"][0]["title"] = "An edited title"
    assert run_load(runner, tmp_path, dump(data)).exit_code == 0
    with app.app_context():
        newer = current_version(structure=True)
        assert newer is not structure and newer.number == structure.number + 1
        assert newer.competencies[0].elements[0].title == "An edited title"
