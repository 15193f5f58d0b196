"""The framework as a 1EdTech CASE 1.1 package: the export validates against the published
CASE 1.1 JSON schema (a copy in tests/framework/case/), identifiers are stable, a round trip
YAML → CASE → YAML gives the same content hash, and what cannot be mapped is refused."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import uuid
from collections import Counter
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import func, select

from competency_app.config import DEFAULT_FRAMEWORK_PATH
from competency_app.extensions import db
from competency_app.framework.case import EXTENSION, framework_namespace, from_case, to_case
from competency_app.framework.loader import content_hash, parse_framework
from competency_app.framework.models import FrameworkVersion

SCHEMA_PATH = Path(__file__).parent / "case" / "case_v1p1_cfpackage-jsonschema1.json"
SCHEMA_SHA256 = "7930082b7ed54e76e45ecbc86f8dd467c9e1635e9ce818371599bca25f942fe5"


@pytest.fixture(scope="module")
def case_validator():
    raw = SCHEMA_PATH.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SCHEMA_SHA256, "the schema copy was changed"
    schema = json.loads(raw)
    assert schema["$id"].endswith("/case/v1p1/schema/json/case_v1p1_cfpackage-jsonschema1.json")
    return jsonschema.Draft201909Validator(schema, format_checker=jsonschema.FormatChecker())


def export(runner, tmp_path, fmt: str, name: str) -> Path:
    path = tmp_path / name
    result = runner.invoke(args=["export-framework", "--format", fmt, "--output", str(path)])
    assert result.exit_code == 0, result.output
    return path


def versions(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(FrameworkVersion))


def test_the_export_is_valid_case_1_1(
    app, runner, framework, framework_document, tmp_path, case_validator
):
    package = json.loads(export(runner, tmp_path, "case", "framework.json").read_text())
    errors = [f"{list(e.path)}: {e.message}" for e in case_validator.iter_errors(package)]
    assert errors == []
    types = Counter(item["CFItemType"] for item in package["CFItems"])
    document = framework_document
    assert types == {
        "Core value": len(document.core_values),
        "Competency": len(document.competencies),
        "Element": len(document.elements()),
        "Skill": sum(len(e.skills) for e in document.elements()),
        "Task": sum(len(e.tasks) for e in document.elements()),
    }
    # every item hangs from its parent by one isChildOf
    children = {a["originNodeURI"]["identifier"] for a in package["CFAssociations"]}
    assert {a["associationType"] for a in package["CFAssociations"]} == {"isChildOf"}
    assert children == {item["identifier"] for item in package["CFItems"]}
    by_code = {item["humanCodingScheme"]: item for item in package["CFItems"]}
    skill = document.elements()[0].skills[0]
    parent = next(
        a["destinationNodeURI"]["identifier"]
        for a in package["CFAssociations"]
        if a["originNodeURI"]["identifier"] == by_code[skill.id]["identifier"]
    )
    assert parent == by_code[document.elements()[0].id]["identifier"]
    assert by_code[skill.id]["fullStatement"] == skill.text
    # what CASE cannot carry travels in the package's extension
    settings = package["extensions"][EXTENSION]
    assert settings["rating_scale"]["competent_level"] == document.rating_scale.competent_level
    assert len(settings["person_specifications"]) == len(document.person_specifications)


def test_identifiers_are_stable_uuid5_from_the_stable_ids(framework_document):
    first = to_case(framework_document)
    skill = framework_document.elements()[0].skills[0]
    reworded = copy.deepcopy(framework_document.model_dump(mode="json"))
    reworded["competencies"][0]["elements"][0]["skills"][0]["text"] = "Reworded skill text"
    reworded["metadata"]["version_label"] = "Revised"
    second = to_case(type(framework_document).model_validate(reworded))
    ids = {i["humanCodingScheme"]: i["identifier"] for i in first["CFItems"]}
    assert ids == {i["humanCodingScheme"]: i["identifier"] for i in second["CFItems"]}
    expected = uuid.uuid5(framework_namespace(framework_document), skill.id)
    assert ids[skill.id] == str(expected) and uuid.UUID(ids[skill.id]).version == 5
    assert first["CFDocument"]["identifier"] == second["CFDocument"]["identifier"]


def test_round_trip_yaml_case_yaml_keeps_the_content_hash(
    app, runner, framework, framework_document, tmp_path
):
    original = content_hash(framework_document)
    case_file = export(runner, tmp_path, "case", "framework.json")
    assert content_hash(from_case(case_file.read_bytes())) == original
    # loading the CASE package is the same version: nothing new
    result = runner.invoke(args=["load-framework", str(case_file)])
    assert result.exit_code == 0, result.output
    assert "identical to framework version 1" in result.output
    assert versions(app) == 1
    # and back to YAML, which parses to the same content
    yaml_file = export(runner, tmp_path, "yaml", "framework.yaml")
    assert content_hash(parse_framework(yaml_file.read_bytes())) == original


def test_a_changed_case_package_loads_as_a_new_version(app, runner, framework, tmp_path):
    package = json.loads(export(runner, tmp_path, "case", "framework.json").read_text())
    skill = next(i for i in package["CFItems"] if i["CFItemType"] == "Skill")
    skill["fullStatement"] = "A reworded skill, exchanged through CASE"
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(package))
    result = runner.invoke(args=["load-framework", str(path)])
    assert result.exit_code == 0, result.output
    assert "as framework version 2" in result.output


def _refused(runner, tmp_path, package) -> str:
    path = tmp_path / "refused.json"
    path.write_text(package if isinstance(package, str) else json.dumps(package))
    result = runner.invoke(args=["load-framework", str(path)])
    assert result.exit_code == 2, result.output
    assert "refused; nothing was loaded" in result.output
    return result.output


def test_what_cannot_be_mapped_is_refused_with_exit_2(app, runner, framework, tmp_path):
    package = json.loads(export(runner, tmp_path, "case", "framework.json").read_text())
    foreign = copy.deepcopy(package)
    del foreign["extensions"]
    assert "no rating scale, rules or person specification" in _refused(runner, tmp_path, foreign)
    unknown = copy.deepcopy(package)
    unknown["CFItems"][0]["CFItemType"] = "Standard"
    assert "CFItemType 'Standard' has no place" in _refused(runner, tmp_path, unknown)
    orphan = copy.deepcopy(package)
    skill = next(i for i in orphan["CFItems"] if i["CFItemType"] == "Skill")
    for association in orphan["CFAssociations"]:
        if association["originNodeURI"]["identifier"] == skill["identifier"]:
            association["destinationNodeURI"]["identifier"] = orphan["CFDocument"]["identifier"]
    output = _refused(runner, tmp_path, orphan)
    assert f"{skill['humanCodingScheme']} is a child of document" in output
    no_code = copy.deepcopy(package)
    del no_code["CFItems"][0]["humanCodingScheme"]
    assert "humanCodingScheme" in _refused(runner, tmp_path, no_code)
    assert "not a JSON file" in _refused(runner, tmp_path, '{"CFDocument": ')
    bad_scale = copy.deepcopy(package)
    bad_scale["extensions"][EXTENSION]["rating_scale"]["competent_level"] = 7
    assert "competent_level 7 is not one of" in _refused(runner, tmp_path, bad_scale)
    assert versions(app) == 1


def _first(package: dict, item_type: str) -> dict:
    return next(i for i in package["CFItems"] if i["CFItemType"] == item_type)


def _malformed(package: dict, case: str) -> tuple[str, str]:
    """A hostile or broken variant of `package`, as text, and where it must be reported."""
    good = json.dumps(package, indent=1)
    bad = copy.deepcopy(package)
    if case == "deep nesting":
        return good[:-1] + ', "x": ' + "[" * 10_000 + "]" * 10_000 + "}", "nesting deeper than 24"
    if case == "5,000-digit number":
        digits = "9" * 5_000
        return good.replace('"sequenceNumber": 1,', f'"sequenceNumber": {digits},', 1), (
            ": the number 99999999999999999999… is out of range"
        )
    if case == "huge float":
        return good.replace('"sequenceNumber": 1,', '"sequenceNumber": 1e999,', 1), (
            ": the number 1e999 is out of range"
        )
    if case == "NaN":
        return good.replace('"sequenceNumber": 1,', '"sequenceNumber": NaN,', 1), "NaN"
    if case == "listEnumeration ²":
        _first(bad, "Competency")["listEnumeration"] = "²"
        index = bad["CFItems"].index(_first(bad, "Competency"))
        return json.dumps(bad), f"CFItems.{index}.listEnumeration: a competency's"
    if case == "sequenceNumber abc":
        bad["CFAssociations"][2]["sequenceNumber"] = "abc"
        return json.dumps(bad), "CFAssociations.2.sequenceNumber: must be a whole number"
    if case == "NUL":
        _first(bad, "Skill")["fullStatement"] = "A skill\x00with a NUL"
        index = bad["CFItems"].index(_first(bad, "Skill"))
        return json.dumps(bad), f"CFItems.{index}.fullStatement: contains a NUL character"
    if case == "duplicate key":
        duplicated = good.replace('"caseVersion": "1.1"', '"caseVersion": "1.1", "title": "x"')
        return duplicated, "CFDocument.title: duplicate key 'title'"
    if case == "number for text":
        _first(bad, "Skill")["fullStatement"] = 42
        index = bad["CFItems"].index(_first(bad, "Skill"))
        return json.dumps(bad), f"CFItems.{index}.fullStatement: must be text"
    assert case == "text for number"
    bad["extensions"][EXTENSION]["rules"]["validity_months"] = "12"
    return json.dumps(bad), f"extensions.{EXTENSION}.rules.validity_months: Input should be"


@pytest.mark.parametrize(
    "case",
    [
        "deep nesting",
        "5,000-digit number",
        "huge float",
        "NaN",
        "listEnumeration ²",
        "sequenceNumber abc",
        "NUL",
        "duplicate key",
        "number for text",
        "text for number",
    ],
)
def test_a_malformed_package_is_refused_with_exit_2_and_its_place(
    app, runner, framework, tmp_path, case
):
    package = json.loads(export(runner, tmp_path, "case", "framework.json").read_text())
    text, place = _malformed(package, case)
    path = tmp_path / "malformed.json"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(args=["load-framework", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"{path}:" in result.output and place in result.output, result.output
    assert "refused; nothing was loaded" in result.output
    assert versions(app) == 1


def test_a_nul_written_as_a_yaml_escape_is_refused_with_its_place(runner, tmp_path):
    text = DEFAULT_FRAMEWORK_PATH.read_text(encoding="utf-8")
    title = re.search(r"^  title: (.*)$", text, re.MULTILINE)
    assert title
    path = tmp_path / "nul.yaml"
    path.write_text(text.replace(title.group(0), '  title: "Keyworking\\0framework"', 1))
    result = runner.invoke(args=["load-framework", "--check", str(path)])
    assert result.exit_code == 2, result.output
    assert "metadata.title: contains a NUL character" in result.output
