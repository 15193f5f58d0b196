"""Framework pages: content from the loaded version, versions and their comparison."""

from __future__ import annotations

import copy
import html
import re

import yaml

from competency_app.accounts.models import Role
from competency_app.extensions import db
from competency_app.framework.loader import parse_framework
from competency_app.framework.services import load_framework
from tests.conftest import sign_in
from tests.factories import PASSWORD, commit, make_team, make_user


def _signed_in(app, client):
    with app.app_context():
        make_user("pat.prac", Role.PRACTITIONER, team=make_team("north"))
        commit()
    sign_in(client, "pat.prac@example.nhs.uk", PASSWORD)


def test_pages_need_sign_in(app, client, framework):
    response = client.get("/framework")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]


def test_empty_state_before_any_framework(app, client):
    _signed_in(app, client)
    assert "No framework has been loaded yet" in client.get("/framework").get_data(as_text=True)


def test_every_element_page_shows_every_skill_and_task(app, client, framework, framework_document):
    _signed_in(app, client)
    overview = html.unescape(client.get("/framework").get_data(as_text=True))
    for competency in framework_document.competencies:
        assert competency.title in overview
    for element in framework_document.elements():
        response = client.get(f"/framework/elements/{element.id}")
        assert response.status_code == 200
        page = html.unescape(response.get_data(as_text=True))
        for item in [*element.skills, *element.tasks]:
            assert item.text in page, item.id
        for area in element.areas:
            assert area.title in page
            if area.no_skills_note:
                assert area.no_skills_note in page


def test_values_elearning_and_person_specification(app, client, framework, framework_document):
    _signed_in(app, client)
    values = html.unescape(client.get("/framework/values").get_data(as_text=True))
    for value in framework_document.core_values:
        assert value.description in values
    catalogue = html.unescape(client.get("/framework/elearning").get_data(as_text=True))
    for module in framework_document.elearning:
        assert module.title in catalogue
    spec = html.unescape(client.get("/framework/person-specification").get_data(as_text=True))
    for criterion in framework_document.person_specifications[0].criteria:
        assert criterion.text in spec


def test_unknown_element_or_version_is_404(app, client, framework):
    _signed_in(app, client)
    assert client.get("/framework/elements/9z").status_code == 404
    assert client.get("/framework/values?version=99").status_code == 404
    assert client.get("/framework/values?version=abc").status_code == 404


def test_compare_shows_exactly_the_edited_items(app, client, framework, framework_bytes):
    _signed_in(app, client)
    data = yaml.safe_load(framework_bytes)
    edited = copy.deepcopy(data)
    element = edited["competencies"][0]["elements"][0]
    element["skills"][0]["text"] = "A reworded first skill."
    removed_task = element["tasks"].pop()
    element["tasks"].append({"id": "1a.t99", "text": "A new related task."})
    raw = yaml.safe_dump(edited, sort_keys=False, allow_unicode=True).encode()
    with app.app_context():
        load_framework(parse_framework(raw, "edited.yaml"), "edited.yaml", loaded_by="test")
        db.session.commit()

    versions = client.get("/framework/versions").get_data(as_text=True)
    assert "Compare two versions" in versions
    response = client.get("/framework/versions/compare?from=1&to=2")
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    keys = sorted(set(re.findall(r'data-key="([^"]+)"', page)))
    assert keys == sorted(["1a.s1", "1a.t99", removed_task["id"]])
    assert "A reworded first skill." in page
    assert data["competencies"][0]["elements"][0]["skills"][0]["text"] in page

    # version 1 is still readable as it was
    old = html.unescape(client.get("/framework/elements/1a?version=1").get_data(as_text=True))
    assert data["competencies"][0]["elements"][0]["skills"][0]["text"] in old


def test_compare_with_bad_choice_is_400_with_message(app, client, framework):
    _signed_in(app, client)
    response = client.get("/framework/versions/compare?from=1&to=7")
    assert response.status_code == 400
    assert "Select the version to compare to" in response.get_data(as_text=True)


def test_who_must_hold_what_and_names_come_from_the_file(app, client, framework):
    _signed_in(app, client)
    overview = html.unescape(client.get("/framework").get_data(as_text=True))
    lede = re.search(r'nhsuk-lede-text">(.*?)</p>', overview, re.S).group(1)
    assert lede.endswith(
        "The core values and Effective communication are expected of every individual, but "
        "for the enhanced skills of Effective communication, which the team holds as a whole."
    )
    assert "Keyworker – person specification (" in overview
    assert "1a Enabling/organising direct support" in overview  # short label: the id
    spec = html.unescape(client.get("/framework/person-specification").get_data(as_text=True))
    assert "<h1>Keyworker – person specification</h1>" in spec


def test_a_short_label_names_the_element_and_is_the_only_change(
    app, client, framework, framework_bytes
):
    """Version 1 stored as before short labels existed; version 2 gives 1a one."""
    _signed_in(app, client)
    with app.app_context():
        from competency_app.framework.services import version_by_number

        old = version_by_number(1)
        document = copy.deepcopy(old.document)
        for comp in document["competencies"]:
            for element in comp["elements"]:
                del element["short_label"]
        old.document = document
        edited = yaml.safe_load(framework_bytes)
        edited["competencies"][0]["elements"][0]["short_label"] = "A1"
        raw = yaml.safe_dump(edited, sort_keys=False, allow_unicode=True).encode()
        load_framework(parse_framework(raw, "edited.yaml"), "edited.yaml", loaded_by="test")
        db.session.commit()
    page = html.unescape(
        client.get("/framework/versions/compare?from=1&to=2").get_data(as_text=True)
    )
    assert re.findall(r'data-key="([^"]+)"', page) == ["1a"]
    overview = html.unescape(client.get("/framework").get_data(as_text=True))
    assert "A1 Enabling/organising direct support" in overview
    assert "1a Enabling/organising direct support" not in overview
    assert "1b Personalisation" in overview
