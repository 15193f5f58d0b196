"""schema_version 2 made `source` mandatory on each e-learning module. A version 1 file
without it is refused with one message naming the modules and what to do; a version 1 file
that already gives every source is read as version 2; stored version 1 documents export."""

from __future__ import annotations

import json

import pytest
import yaml
from sqlalchemy import select

from competency_app.extensions import db
from competency_app.framework.case import from_case, to_case
from competency_app.framework.loader import FrameworkFileError, content_hash, parse_framework
from competency_app.framework.models import FrameworkVersion
from competency_app.framework.schema import SCHEMA_VERSION


def november_file(framework_bytes) -> dict:
    """The keyworking file as a version 1 file of November wrote it: no module sources."""
    data = yaml.safe_load(framework_bytes)
    data["schema_version"] = 1
    for module in data["elearning"]:
        del module["source"]
    return data


def test_a_version_1_file_without_sources_is_told_what_to_add(framework_bytes):
    data = november_file(framework_bytes)
    raw = yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode()
    with pytest.raises(FrameworkFileError) as refused:
        parse_framework(raw, "november.yaml")
    (problem,) = refused.value.problems
    assert problem.path == "schema_version"
    assert problem.line == 1
    assert "schema_version 1 files need `source` on each module" in problem.message
    assert all(module["id"] in problem.message for module in data["elearning"])
    assert f"set schema_version: {SCHEMA_VERSION}" in problem.message


def test_a_version_1_case_package_without_sources_gets_the_same_message(
    framework_document,
):
    package = to_case(framework_document)
    settings = package["extensions"]["keyworkingCompetencyTracker"]
    settings["schema_version"] = 1
    for module in settings["elearning"]:
        del module["source"]
    with pytest.raises(FrameworkFileError) as refused:
        from_case(json.dumps(package).encode())
    (problem,) = refused.value.problems
    assert "schema_version 1 files need `source` on each module" in problem.message


def test_a_version_1_file_with_every_source_reads_as_version_2(framework_bytes, framework_document):
    data = yaml.safe_load(framework_bytes)
    data["schema_version"] = 1
    document = parse_framework(yaml.safe_dump(data, allow_unicode=True).encode())
    assert document.schema_version == SCHEMA_VERSION == 2
    assert content_hash(document) == content_hash(framework_document)


def test_a_version_stored_from_a_version_1_file_still_exports(app, runner, framework, tmp_path):
    with app.app_context():
        version = db.session.scalars(select(FrameworkVersion)).one()
        version.document = {**version.document, "schema_version": 1}
        db.session.commit()
    path = tmp_path / "exported.yaml"
    result = runner.invoke(args=["export-framework", "--format", "yaml", "--output", str(path)])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(path.read_text())["schema_version"] == SCHEMA_VERSION
