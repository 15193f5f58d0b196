"""Supervision as the Developing Key Working guide (reference 002) describes it: the
framework file's discussion prompts, a section of every record each (kept when refused,
saved, shown on the page and in the PDF); one-to-one, peer and group sessions, one private
record per supervisee; weeks since the last supervision on each home with an alert past the
file's threshold; and the file's periods said to be the service's policy."""

from __future__ import annotations

import html
import re
from datetime import date, time
from pathlib import Path

import pytest
import yaml
from flask import template_rendered
from sqlalchemy import select

from competency_app.accounts.models import AuditEvent
from competency_app.config import DEFAULT_FRAMEWORK_PATH
from competency_app.extensions import db
from competency_app.framework.loader import FrameworkFileError, parse_framework
from competency_app.framework.services import load_framework
from competency_app.supervision import services
from competency_app.supervision.models import PromptNote, SupervisionSession
from tests.conftest import csrf_from, sign_in
from tests.factories import PASSWORD
from tests.supervision.helpers import people, user, utc

NOW = utc(2027, 3, 1, 9, 0)
REFERENCE_002 = Path("/work/shared/reference")


@pytest.fixture
def ids(app, framework):
    app.config["FROZEN_NOW"] = NOW
    return people(app)


def _client(app, local: str):
    client = app.test_client()
    sign_in(client, f"{local}@example.nhs.uk", PASSWORD)
    return client


def _text(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(True))))


def _file(**supervision) -> dict:
    data = yaml.safe_load(DEFAULT_FRAMEWORK_PATH.read_bytes())
    data["supervision"].update(supervision)
    return data


def _load(app, data: dict) -> None:
    with app.app_context():
        document = parse_framework(yaml.safe_dump(data).encode(), "variant.yaml")
        load_framework(document, "variant.yaml", loaded_by="test")
        db.session.commit()


# ---- the file ------------------------------------------------------------------------------


def test_the_keyworking_file_quotes_what_002_says_supervision_covers():
    document = parse_framework(DEFAULT_FRAMEWORK_PATH.read_bytes())
    prompts = {p.id: p for p in document.supervision.prompts}
    assert {"independence", "boundaries", "workload", "urgent"} <= set(prompts)
    assert "promoting independence in parents and young people" in prompts["independence"].text
    assert "overly dependent" in prompts["boundaries"].text
    assert "reasonable boundaries are maintained" in prompts["boundaries"].text
    assert "manage their workload" in prompts["workload"].text
    assert "discuss urgent matters in good time" in prompts["urgent"].text
    assert all(p.source and "Developing Key Working" in p.source for p in prompts.values())
    assert document.supervision.session_kinds == ["one_to_one", "peer", "group"]
    assert document.supervision.alert_after_weeks == 6
    # verbatim: each prompt's text is in the guide, word for word (where the guide is here)
    guides = sorted(REFERENCE_002.glob("002_*")) if REFERENCE_002.exists() else []
    if guides:
        guide = re.sub(r"\s+", " ", guides[0].read_text())
        for prompt in prompts.values():
            assert re.sub(r"\s+", " ", prompt.text) in guide, prompt.id


def test_a_file_without_the_new_settings_takes_defaults_and_bad_ones_are_refused():
    data = _file()
    for key in ("prompts", "alert_after_weeks", "session_kinds"):
        del data["supervision"][key]
    document = parse_framework(yaml.safe_dump(data).encode())
    assert document.supervision.prompts == []
    assert document.supervision.alert_after_weeks == 6
    assert document.supervision.session_kinds == ["one_to_one", "peer", "group"]
    twice = _file()
    twice["supervision"]["prompts"].append(dict(twice["supervision"]["prompts"][0]))
    with pytest.raises(FrameworkFileError, match="prompt ids must be distinct"):
        parse_framework(yaml.safe_dump(twice).encode())
    with pytest.raises(FrameworkFileError, match="session_kinds"):
        parse_framework(yaml.safe_dump(_file(session_kinds=["huddle"])).encode())
    with pytest.raises(FrameworkFileError, match="alert_after_weeks"):
        parse_framework(yaml.safe_dump(_file(alert_after_weeks=0)).encode())


# ---- the record ----------------------------------------------------------------------------


def _one_session(app) -> int:
    with app.app_context():
        (session,) = services.schedule_sessions(
            user("pat.prac"), user("sue.super"), date(2027, 3, 10), time(14, 0)
        )
        db.session.commit()
        return session.id


def test_the_record_has_a_section_per_prompt_kept_when_refused_and_saved(app, ids):
    session_id = _one_session(app)
    client = _client(app, "sue.super")
    page = f"/supervision/sessions/{session_id}"
    body = client.get(page).get_data(as_text=True)
    for prompt_id in ("independence", "boundaries", "workload", "urgent", "capacity"):
        assert f'name="prompt-{prompt_id}"' in body
    assert "Notes on Promoting independence in parents and young people" in html.unescape(body)
    token = csrf_from(body)
    typed = {
        "prompt-independence": "Mum now books her own appointments",
        "prompt-boundaries": "Agreed to stop weekend texts",
        "prompt-workload": "w" * 5001,
        "agreed_actions": "Review caseload",
    }
    refused = client.post(page + "/actions", data={"csrf_token": token, **typed})
    assert refused.status_code == 400
    text = html.unescape(refused.get_data(as_text=True))
    assert "Keep the notes on “Workload” to 5000 characters" in text
    assert 'href="#prompt-workload"' in text
    for value in typed.values():
        assert value in text
    with app.app_context():
        assert db.session.scalar(select(PromptNote)) is None
        assert db.session.get_one(SupervisionSession, session_id).agreed_actions is None

    typed["prompt-workload"] = "Caseload of 14 families is manageable"
    saved = client.post(page + "/actions", data={"csrf_token": token, **typed})
    assert saved.status_code == 303 and saved.location.endswith("#discussion")
    with app.app_context():
        notes = {n.prompt_id: n.text for n in db.session.scalars(select(PromptNote))}
        assert notes == {
            "independence": "Mum now books her own appointments",
            "boundaries": "Agreed to stop weekend texts",
            "workload": "Caseload of 14 families is manageable",
        }
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "supervision_actions_recorded")
        ).one()
        assert event.detail["prompts"] == 3
        assert "weekend" not in str(event.detail)
    # the supervisee reads each section under its prompt, with no form
    own = _client(app, "pat.prac").get(page)
    read = _text(own)
    assert 'name="prompt-' not in own.get_data(as_text=True)
    assert (
        "Boundaries and over-dependence “A core objective of key working is to help families"
        in read
    )
    assert "Agreed to stop weekend texts" in read
    assert read.count("Nothing recorded.") == 2  # urgent matters and capacity
    # a blank note clears it; a prompt not posted is left alone
    client.post(page + "/actions", data={"csrf_token": token, "prompt-boundaries": ""})
    with app.app_context():
        kept = {n.prompt_id for n in db.session.scalars(select(PromptNote))}
        assert kept == {"independence", "workload"}


def test_the_pdf_of_the_record_carries_each_prompt_and_its_notes(app, ids):
    session_id = _one_session(app)
    client = _client(app, "sue.super")
    page = f"/supervision/sessions/{session_id}"
    token = csrf_from(client.get(page).get_data(as_text=True))
    client.post(
        page + "/actions",
        data={"csrf_token": token, "prompt-urgent": "Called back the same day about the hoist"},
    )
    drawn: list[str] = []

    def capture(sender, template, context, **extra):
        if template.name == "supervision/record_pdf.html":
            drawn.append(template.render(context))

    with template_rendered.connected_to(capture, app):
        response = client.get(page + "/record.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    (printed,) = drawn
    text = html.unescape(printed)
    assert "Urgent matters" in text and "Called back the same day about the hoist" in text
    assert "Promoting independence in parents and young people" in text
    assert "<textarea" not in printed


# ---- peer and group sessions ---------------------------------------------------------------


def _book(client, **fields):
    page = client.get("/supervision/group/new")
    token = csrf_from(page.get_data(as_text=True))
    data = {"csrf_token": token, "day": "2027-03-12", "time": "10:00", **fields}
    return client.post("/supervision/group/new", data=data)


def test_a_group_session_gives_each_supervisee_a_private_record(app, ids):
    sue = _client(app, "sue.super")
    overview = sue.get("/supervision/sessions").get_data(as_text=True)
    assert "Book a peer or group session" in overview
    booked = _book(sue, kind="group", people=[ids["pat.prac"], ids["kim.prac"]], place="Room 2")
    assert booked.status_code == 303, booked.get_data(as_text=True)
    with app.app_context():
        sessions = list(db.session.scalars(select(SupervisionSession)))
        assert {s.supervisee_id for s in sessions} == {ids["pat.prac"], ids["kim.prac"]}
        assert {(s.kind, s.supervisor_id, s.led_by_id) for s in sessions} == {
            ("group", ids["sue.super"], None)
        }
        assert len({s.group_id for s in sessions}) == 1 and sessions[0].group_id is not None
        by_person = {s.supervisee_id: s.id for s in sessions}
        audits = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "supervision_scheduled")
        ).all()
        assert sorted(a.target for a in audits) == sorted(
            f"user:{ids[p]}" for p in ("pat.prac", "kim.prac")
        )
        assert {a.detail["kind"] for a in audits} == {"group"}
    pat_record = f"/supervision/sessions/{by_person[ids['pat.prac']]}"
    kim_record = f"/supervision/sessions/{by_person[ids['kim.prac']]}"
    token = csrf_from(sue.get(pat_record).get_data(as_text=True))
    sue.post(pat_record + "/actions", data={"csrf_token": token, "prompt-workload": "Pat: 12"})
    pat = _client(app, "pat.prac")
    assert "Group supervision" in _text(pat.get(pat_record))
    assert "Pat: 12" in _text(pat.get(pat_record))
    assert pat.get(kim_record).status_code == 403  # one record each, private
    assert "Pat: 12" not in _text(sue.get(kim_record))
    assert "Kim Prac" not in _text(pat.get(pat_record))
    assert "(group supervision)" in _text(pat.get(f"/people/{ids['pat.prac']}/supervision"))


def test_peer_supervision_may_be_led_by_a_fellow_practitioner(app, ids):
    manager = _client(app, "max.manager")
    booked = _book(
        manager,
        kind="peer",
        people=[ids["pat.prac"], ids["kim.prac"]],
        led_by=str(ids["kim.prac"]),
    )
    assert booked.status_code == 303, booked.get_data(as_text=True)
    with app.app_context():
        sessions = {s.supervisee_id: s for s in db.session.scalars(select(SupervisionSession))}
        pat_session = sessions[ids["pat.prac"]]
        # each record keeps the person's own supervisor; Kim is named as the lead
        assert (pat_session.kind, pat_session.supervisor_id) == ("peer", ids["sue.super"])
        assert pat_session.led_by_id == ids["kim.prac"]
        pat_id = pat_session.id
    assert "Led by Kim Prac" in _text(
        _client(app, "pat.prac").get(f"/supervision/sessions/{pat_id}")
    )
    # leading gives no access to the others' records
    assert _client(app, "kim.prac").get(f"/supervision/sessions/{pat_id}").status_code == 403


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"kind": "group", "people": ["pat"]}, "people", "Choose at least two people"),
        ({"kind": "group", "people": ["pat", "sol"]}, "people", "Choose people from the list"),
        ({"kind": "", "people": ["pat", "kim"]}, "kind", "Choose peer supervision or group"),
        ({"kind": "group", "people": ["pat", "kim"], "led_by": "kim"}, "led_by", "led by you"),
        ({"kind": "peer", "people": ["pat", "kim"], "led_by": "lee"}, "led_by", "attending"),
        ({"kind": "one_to_one", "people": ["pat", "kim"]}, "kind", "Choose peer supervision"),
    ],
)
def test_refused_group_bookings_name_the_field_keep_what_was_typed_and_store_nothing(
    app, ids, fields, field, message
):
    resolve = {"pat": "pat.prac", "kim": "kim.prac", "lee": "lee.nosuper", "sol": "sol.south"}
    posted = dict(fields, place="Typed place")
    posted["people"] = [str(ids[resolve[p]]) for p in fields["people"]]
    if "led_by" in fields:
        posted["led_by"] = str(ids[resolve[fields["led_by"]]])
    response = _book(_client(app, "max.manager"), **posted)
    assert response.status_code == 400
    body = html.unescape(response.get_data(as_text=True))
    assert f'href="#{field}' in body and message in body
    assert 'value="Typed place"' in body
    for person in posted["people"]:
        if person in {str(ids["pat.prac"]), str(ids["kim.prac"])}:
            assert re.search(rf'value="{person}"\s+checked', body)
    with app.app_context():
        assert db.session.scalar(select(SupervisionSession)) is None


def test_only_the_kinds_the_file_holds_are_offered(app, ids):
    _load(app, _file(session_kinds=["one_to_one", "peer"]))
    response = _book(
        _client(app, "sue.super"), kind="group", people=[ids["pat.prac"], ids["kim.prac"]]
    )
    assert response.status_code == 400
    assert "does not hold group supervision sessions" in html.unescape(response.get_data(True))
    _load(app, _file(session_kinds=["one_to_one"]))
    sue = _client(app, "sue.super")
    assert sue.get("/supervision/group/new").status_code == 404
    assert "Book a peer or group session" not in sue.get("/supervision/sessions").get_data(True)


# ---- weeks since the last supervision ------------------------------------------------------


def _held(app, local: str, day: date) -> None:
    app.config["FROZEN_NOW"] = utc(day.year, day.month, day.day, 8, 0)
    with app.app_context():
        services.schedule_sessions(user(local), user("sue.super"), day, time(10, 0))
        db.session.commit()


def test_homes_show_weeks_since_the_last_supervision_and_alert_past_the_file_threshold(app, ids):
    _held(app, "pat.prac", date(2027, 1, 4))  # 8 weeks before NOW
    _held(app, "kim.prac", date(2027, 2, 15))  # 2 weeks before NOW
    app.config["FROZEN_NOW"] = NOW
    pat = _text(_client(app, "pat.prac").get("/"))
    assert (
        "Supervision overdue Your last supervision was 8 weeks ago, on 4 January 2027 (your "
        "service's policy, not the framework's: supervision at least every 6 weeks)" in pat
    )
    kim = _text(_client(app, "kim.prac").get("/"))
    assert "Supervised Your last supervision was 2 weeks ago, on 15 February 2027" in kim
    assert "Supervision overdue" not in kim
    sue = _text(_client(app, "sue.super").get("/"))
    assert "Supervision overdue Pat Prac: last supervision 8 weeks ago, on 4 January 2027" in sue
    assert "Supervised Kim Prac: last supervision 2 weeks ago, on 15 February 2027" in sue
    assert "1 of 2 supervisees overdue for supervision." in sue
    overview = _text(_client(app, "sue.super").get("/supervision/sessions"))
    assert "Overdue 8 weeks ago (4 January 2027)" in overview
    # the threshold is the file's: at 10 weeks, 8 weeks is not overdue
    _load(app, _file(alert_after_weeks=10))
    pat = _text(_client(app, "pat.prac").get("/"))
    assert "Supervised Your last supervision was 8 weeks ago" in pat
    sue = _text(_client(app, "sue.super").get("/"))
    assert "0 of 2 supervisees overdue for supervision." in sue
    assert "supervision at least every 10 weeks" in sue


def test_cancelled_and_future_sessions_do_not_count_as_held(app, ids):
    _held(app, "pat.prac", date(2027, 2, 22))
    app.config["FROZEN_NOW"] = NOW
    with app.app_context():
        (later,) = services.schedule_sessions(
            user("pat.prac"), user("sue.super"), date(2027, 3, 20), time(10, 0)
        )
        session = db.session.scalar(
            select(SupervisionSession).where(SupervisionSession.starts_at < NOW)
        )
        services.cancel(session, user("sue.super"))
        db.session.commit()
        assert later.id != session.id
    pat = _text(_client(app, "pat.prac").get("/"))
    assert "No supervision yet You have had no supervision yet" in pat


# ---- the service's own periods -------------------------------------------------------------


def test_pages_with_the_periods_say_they_are_the_services_policy(app, ids):
    _load(app, _file(review_cycle_months=9))
    sue = _client(app, "sue.super")
    framework = _text(sue.get("/framework"))
    assert (
        "Your service's policy, not the framework's: a supervisor's validation counts for "
        "12 months" in framework
    )
    assert (
        "Your service's policy, not the framework's: a competency review 9 months after the "
        "last validation" in framework
    )
    person = _text(sue.get(f"/people/{ids['pat.prac']}/supervision"))
    assert "Your service's policy, not the framework's: supervision at least every 6 weeks" in (
        person
    )
    assert "a competency review 9 months after the last validation" in person
