"""Every section of the framework file travels through CASE: a file with a value other than
the schema's default in every field that has one (the supervision cycle included) is loaded,
exported as a CASE package and loaded back as the same version, with the same content hash
and the same settings."""

from __future__ import annotations

import json
from typing import Any

import yaml
from pydantic import BaseModel

from competency_app.config import DEFAULT_FRAMEWORK_PATH
from competency_app.framework.case import from_case
from competency_app.framework.loader import content_hash, parse_framework
from competency_app.framework.services import current_version


def fields_left_at_default(document: BaseModel) -> list[str]:
    """`Model.field` for every optional field no instance in `document` sets otherwise."""
    changed: dict[str, bool] = {}

    def walk(value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, BaseModel):
            for name, field in type(value).model_fields.items():
                own = getattr(value, name)
                if not field.is_required():
                    key = f"{type(value).__name__}.{name}"
                    default = field.get_default(call_default_factory=True)
                    changed[key] = changed.get(key, False) or own != default
                walk(own)

    walk(document)
    return sorted(key for key, was_changed in changed.items() if not was_changed)


def non_default_file() -> dict:
    """The keyworking file with the settings it leaves at their defaults set otherwise."""
    data = yaml.safe_load(DEFAULT_FRAMEWORK_PATH.read_bytes())
    data["supervision"] = {
        "review_cycle_months": 6,
        "self_assessment_due_days": 14,
        "alert_after_weeks": 10,
        "session_kinds": ["group", "one_to_one"],
        "prompts": [
            {
                "id": "caseload",
                "title": "Caseload",
                "text": "Talk through each family on the caseload.",
                "source": "The service's supervision policy, section 2",
            },
            *data["supervision"]["prompts"][:2],
        ],
    }
    data["rules"]["coverage_rule"] = "whole_element"
    data["interview_scoring"]["appointable_rule"]["forbidden_applies_to"] = "all"
    element = data["competencies"][0]["elements"][0]
    element["min_holders"] = 3
    element["short_label"] = "Direct support"
    element["skills"][1]["revalidate"] = True
    return data


def test_every_section_survives_yaml_case_load(app, runner, tmp_path):
    yaml_file = tmp_path / "settings.yaml"
    yaml_file.write_text(yaml.safe_dump(non_default_file(), allow_unicode=True, sort_keys=False))
    document = parse_framework(yaml_file.read_bytes())
    assert fields_left_at_default(document) == []
    assert document.supervision.review_cycle_months == 6

    result = runner.invoke(args=["load-framework", str(yaml_file)])
    assert result.exit_code == 0, result.output
    case_file = tmp_path / "settings.json"
    result = runner.invoke(args=["export-framework", "--format", "case", "--output", case_file])
    assert result.exit_code == 0, result.output

    package = json.loads(case_file.read_text())
    back = from_case(case_file.read_bytes())
    assert content_hash(back) == content_hash(document)
    # a required item's parts and the offer's pre-employment checks travel too
    parts = {m.id: m.parts for m in back.elearning if m.parts}
    assert parts == {"module.oliver-mcgowan": ["module.oliver-mcgowan-tier2-day"]}
    checks = back.person_specifications[0].pre_employment_checks
    assert checks == document.person_specifications[0].pre_employment_checks
    assert [c.id for c in checks][:1] == ["dbs-enhanced"] and checks[0].source
    result = runner.invoke(args=["load-framework", str(case_file)])
    assert result.exit_code == 0, result.output
    assert "identical to framework version 1" in result.output
    with app.app_context():
        settings = current_version().settings
    cycle, content = settings.review_cycle, settings.supervision
    assert (cycle.months, cycle.due_days) == (6, 14)
    skill = package["CFItems"][[i["humanCodingScheme"] for i in package["CFItems"]].index("1a.s2")]
    assert skill["extensions"]["keyworkingCompetencyTracker"]["revalidate"] is True
    back = from_case(case_file.read_bytes())
    assert [s.revalidate for s in back.competencies[0].elements[0].skills[:3]] == [
        False,
        True,
        False,
    ]
    assert content.alert_after_weeks == 10
    assert content.session_kinds == ("group", "one_to_one")
    assert [p.id for p in content.prompts] == ["caseload", "independence", "boundaries"]
    assert content.prompts[0].source == "The service's supervision policy, section 2"

    # the supervision section on its own: without it the cycle would come back as 12
    del package["extensions"]["keyworkingCompetencyTracker"]["supervision"]
    without = from_case(json.dumps(package).encode()).supervision
    assert without.review_cycle_months == 12
    assert (without.prompts, without.alert_after_weeks) == ([], 6)
