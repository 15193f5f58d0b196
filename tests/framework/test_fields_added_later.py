"""A file that leaves out the fields added to the schema after files were first stored
keeps its content hash: loading an unchanged file after an upgrade makes no new version."""

from __future__ import annotations

import json

import yaml

from competency_app.framework.loader import content_hash, parse_framework
from competency_app.framework.schema import AddedLater

ADDED = {"parts", "pre_employment_checks", "prompts", "alert_after_weeks", "session_kinds"}


def _without_added(raw: bytes) -> bytes:
    data = yaml.safe_load(raw)
    for module in data["elearning"]:
        module.pop("parts", None)
    for spec in data["person_specifications"]:
        spec.pop("pre_employment_checks", None)
    for key in ("prompts", "alert_after_weeks", "session_kinds"):
        data.get("supervision", {}).pop(key, None)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode()


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_fields_left_out_are_not_written_and_do_not_change_the_hash(framework_bytes):
    document = parse_framework(_without_added(framework_bytes), "old.yaml")
    dumped = document.model_dump(mode="json")
    assert not _keys(dumped) & (ADDED | {"revalidate"})
    # written at their defaults, they are the same document and the same hash
    data = yaml.safe_load(_without_added(framework_bytes))
    data.setdefault("supervision", {})["alert_after_weeks"] = 6
    data["elearning"][0]["parts"] = []
    same = parse_framework(yaml.safe_dump(data, sort_keys=False).encode(), "same.yaml")
    assert content_hash(same) == content_hash(document)
    assert json.dumps(same.model_dump(mode="json"), sort_keys=True) == json.dumps(
        dumped, sort_keys=True
    )


def test_fields_set_are_written(framework_bytes):
    dumped = parse_framework(framework_bytes, "framework.yaml").model_dump(mode="json")
    assert {"parts", "pre_employment_checks", "prompts"} <= _keys(dumped)


def test_every_added_field_is_a_field_with_a_default():
    for model in AddedLater.__subclasses__():
        for name in model.added_later:
            assert name in model.model_fields, (model.__name__, name)
            assert not model.model_fields[name].is_required(), (model.__name__, name)
