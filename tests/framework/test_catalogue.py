"""The e-learning catalogue is checkable: every entry says where it was found, local courses
carry no invented link, required training is marked, and every element is still developed."""

from __future__ import annotations

import copy
import html
import re
from pathlib import Path

import pytest
import yaml

from competency_app.extensions import db
from competency_app.framework.loader import FrameworkFileError, parse_framework
from competency_app.framework.schema import LOCAL_PROVIDER, FrameworkDocument
from competency_app.framework.services import current_version
from tests.framework.test_pages import _signed_in

JOB = Path(__file__).resolve().parents[2] / "data" / "sources" / "keyworker-job-description.txt"


@pytest.fixture(scope="module")
def framework_data(framework_bytes) -> dict:
    return yaml.safe_load(framework_bytes)


def modules_by_id(document: FrameworkDocument) -> dict:
    return {module.id: module for module in document.elearning}


def skills_no_module_develops(document: FrameworkDocument) -> list[str]:
    """Skills developed by no module, neither named nor through their whole element."""
    named = {ref for module in document.elearning for ref in module.develops}
    return [
        skill.id
        for element in document.elements()
        for skill in element.skills
        if skill.id not in named and element.id not in named
    ]


def test_every_module_says_where_it_was_found(framework_document):
    for module in framework_document.elearning:
        assert module.source.strip(), module.id
        if module.is_local:
            assert module.url is None, module.id
            assert "local" in module.title.lower(), module.id  # says so where it is listed
        else:
            assert module.url and module.url.startswith("https://"), module.id
            # the link is the one the cited source shows, not a guess
            assert module.url in module.source, module.id


def test_local_modules_have_no_link_and_the_unfound_ones_are_gone(framework_document):
    modules = modules_by_id(framework_document)
    local = sorted(key for key, module in modules.items() if module.provider == LOCAL_PROVIDER)
    assert local == ["module.positive-behaviour-support", "module.send-ehcp"]
    assert all(modules[key].url is None for key in local)
    # courses that could not be found in any public source are not offered as if they were
    assert "module.resilience" not in modules
    assert "module.system-leadership" not in modules
    titles = " ".join(module.title for module in modules.values())
    for unfound in (
        "Mental Health Act 1983 and the Code of Practice",
        "Building personal and team resilience",
        "Leading change across systems",
        "the Children and Families Act 2014 and EHC plans",
    ):
        assert unfound not in titles


def test_every_element_is_still_developed_and_no_skill_is_left_out(framework_document):
    skill_to_element = {s.id: e.id for e in framework_document.elements() for s in e.skills}
    developed = {
        skill_to_element.get(ref, ref)
        for module in framework_document.elearning
        for ref in module.develops
    }
    missing = [e.id for e in framework_document.elements() if e.id not in developed]
    assert missing == [], f"elements no module develops: {missing}"
    assert skills_no_module_develops(framework_document) == []


def test_required_core_training_and_its_refresh_period(framework_document):
    modules = modules_by_id(framework_document)
    required = {key: module.refresh_months for key, module in modules.items() if module.required}
    # the national keyworker core training (no refresh period in its source) and the
    # Oliver McGowan elearning, part 1 of both tiers, repeated at least every three years
    assert required == {"module.cyp-keyworker": None, "module.oliver-mcgowan": 36}
    keyworker = modules["module.cyp-keyworker"]
    assert keyworker.url and "everyone appointed" in keyworker.source
    oliver = modules["module.oliver-mcgowan"]
    assert "Tier 1 and Tier 2" in oliver.title and "Tier 2" in oliver.description
    # its code of practice requires the Tier 2 face-to-face day too: a part of the item
    assert oliver.parts == ["module.oliver-mcgowan-tier2-day"]
    day = modules["module.oliver-mcgowan-tier2-day"]
    assert not day.required and "1-day face to face" in day.source and "Tier 2" in day.title
    for module in modules.values():
        if module.refresh_months is not None:
            assert module.required, module.id


def test_mecc_is_not_linked_to_effective_communication(framework_document):
    mecc = modules_by_id(framework_document)["module.mecc"]
    element_2 = next(e for e in framework_document.elements() if e.id == "2")
    assert not set(mecc.develops) & {"2", *(s.id for s in element_2.skills)}
    assert "lifestyle" in mecc.description


def test_person_specification_lead_ins_are_given_on_every_criterion_they_govern(
    framework_document,
):
    criteria = {c.id: c for c in framework_document.person_specifications[0].criteria}
    understanding = "The post holder will have a proven understanding of:"
    by_lead_in: dict[str | None, set[str]] = {}
    for key, criterion in criteria.items():
        by_lead_in.setdefault(criterion.lead_in, set()).add(key)
    assert by_lead_in[understanding] == {f"spec.keyworker.c{n:02d}" for n in range(4, 13)}
    assert by_lead_in["Experience of:"] == {"spec.keyworker.c16", "spec.keyworker.c17"}
    assert set(by_lead_in) == {None, understanding, "Experience of:"}
    c04, c16 = criteria["spec.keyworker.c04"], criteria["spec.keyworker.c16"]
    # The text is the bullet alone; read on its own it carries the lead-in.
    assert c04.text.startswith("The education,") and c16.text.startswith("Working with")
    assert c04.full_text.startswith(f"{understanding} The education,")
    source = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", JOB.read_text(encoding="utf-8")))
    source = re.sub(r"\s+", " ", source.replace("•", " "))
    assert c04.full_text in source and c16.full_text in source


def _edited(framework_data, **changes) -> bytes:
    data = copy.deepcopy(framework_data)
    module = data["elearning"][2]  # a public module
    for key, value in changes.items():
        if value is None:
            module.pop(key, None)
        else:
            module[key] = value
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000).encode()


def _line_of_module(raw: bytes, index: int) -> int:
    seen = -1
    for number, line in enumerate(raw.decode().splitlines(), start=1):
        if line.startswith("- id: module."):
            seen += 1
            if seen == index:
                return number
    raise AssertionError("module not found")


@pytest.mark.parametrize(
    ("changes", "message", "field"),
    [
        ({"source": None}, "Field required", "elearning.2.source"),
        ({"source": ""}, "at least 1 character", "elearning.2.source"),
        ({"provider": LOCAL_PROVIDER}, "has no public link: remove url", "elearning.2.url"),
        ({"url": None}, "needs its url", "elearning.2.url"),
        ({"refresh_months": 12}, "set required: true", "elearning.2.refresh_months"),
        ({"required": True, "refresh_months": 0}, "greater than or equal to 1", ".refresh_months"),
        ({"required": "sometimes"}, "valid boolean", "elearning.2.required"),
    ],
)
def test_loader_explains_bad_catalogue_entries_with_their_place(
    framework_data, changes, message, field
):
    raw = _edited(framework_data, **changes)
    with pytest.raises(FrameworkFileError) as caught:
        parse_framework(raw, "framework.yaml")
    text = str(caught.value)
    assert message in text and field in text, text
    # file:line:column of the offending value, or of the module when the value is missing
    where = re.search(r"framework\.yaml:(\d+):\d+: elearning\.2", text)
    assert where, text
    number = int(where.group(1))
    line = raw.decode().splitlines()[number - 1]
    key = field.rsplit(".", 1)[-1]
    assert number == _line_of_module(raw, 2) or line.lstrip().startswith(f"{key}:"), line


def test_a_local_course_without_a_link_and_required_training_parse(framework_data):
    data = copy.deepcopy(framework_data)
    module = data["elearning"][2]
    module.update(provider=LOCAL_PROVIDER, required=True, refresh_months=12)
    module.pop("url")
    document = parse_framework(
        yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode(), "x.yaml"
    )
    parsed = document.elearning[2]
    assert (parsed.is_local, parsed.url, parsed.required, parsed.refresh_months) == (
        True,
        None,
        True,
        12,
    )


def test_loaded_modules_keep_source_required_and_refresh(app, framework, framework_document):
    with app.app_context():
        stored = {module.key: module for module in current_version().modules}
        assert list(stored) == [m.id for m in framework_document.elearning]
        for module in framework_document.elearning:
            row = stored[module.id]
            assert (row.source, row.required, row.refresh_months, row.url) == (
                module.source,
                module.required,
                module.refresh_months,
                module.url,
            )
        assert stored["module.send-ehcp"].provider_label == "Local course run by your service"
        db.session.remove()


def test_catalogue_and_element_pages_show_required_and_local(app, client, framework):
    _signed_in(app, client)
    page = html.unescape(client.get("/framework/elearning").get_data(as_text=True))
    oliver = page[page.index('id="module.oliver-mcgowan"') :]
    oliver = oliver[: oliver.index('class="nhsuk-card"')]
    assert "Required" in oliver and "repeated every 3 years" in oliver
    keyworker = page[page.index('id="module.cyp-keyworker"') :]
    keyworker = keyworker[: keyworker.index('class="nhsuk-card"')]
    assert "Required" in keyworker and "repeated every" not in keyworker
    assert "Where this entry comes from" in keyworker
    pbs = page[page.index('id="module.positive-behaviour-support"') :]
    pbs = pbs[: pbs.index('class="nhsuk-card"')]
    assert "Local course run by your service" in pbs and "<a href" not in pbs.split("Develops")[0]
    element = html.unescape(client.get("/framework/elements/4b").get_data(as_text=True))
    assert "Required" in element and "repeated every 3 years" in element


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m[0].update(parts=["module.nowhere"]), "unknown module 'module.nowhere'"),
        (lambda m: m[0].update(parts=[m[0]["id"]]), "cannot be a part of itself"),
        (lambda m: m[0].update(parts=[m[1]["id"]]), "is a required item of its own"),
        (lambda m: m[2].update(parts=[m[3]["id"]]), "parts make up a required item"),
    ],
)
def test_a_required_items_parts_are_checked(framework_data, change, message):
    data = copy.deepcopy(framework_data)
    change(data["elearning"])
    with pytest.raises(FrameworkFileError) as refused:
        parse_framework(yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode(), "x")
    assert message in str(refused.value)


def test_pre_employment_checks_need_distinct_ids_and_a_label(framework_data):
    data = copy.deepcopy(framework_data)
    spec = data["person_specifications"][0]
    spec["pre_employment_checks"].append(dict(spec["pre_employment_checks"][0]))
    with pytest.raises(FrameworkFileError) as refused:
        parse_framework(yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode(), "x")
    assert "duplicate check id 'dbs-enhanced'" in str(refused.value)
    spec["pre_employment_checks"] = [{"id": "dbs"}]
    with pytest.raises(FrameworkFileError) as refused:
        parse_framework(yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode(), "x")
    assert "pre_employment_checks.0.label" in str(refused.value)
