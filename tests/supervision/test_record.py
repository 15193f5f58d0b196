"""The supervision record: the assessment validated or returned in the session, every
changed level with both levels and the comment, the reflections and the supervisor's notes,
agreed actions and modules assigned, the next session and room to sign. History and the
profile read as text, never bare skill keys."""

from __future__ import annotations

import contextlib
import html
import re
import zlib
from datetime import date, time

import pytest
from sqlalchemy import select

from competency_app.accounts.models import AuditEvent
from competency_app.assessments import services as assessments
from competency_app.assessments.models import (
    Assessment,
    AssessmentEvent,
    ValueReview,
    ValueReviewOutcome,
)
from competency_app.extensions import db
from competency_app.framework.services import current_version
from competency_app.supervision import services
from competency_app.supervision.models import SessionAssignment
from competency_app.supervision.pdf import offline_fetcher, pdf_from_html
from competency_app.training.models import TrainingAssignment
from tests.conftest import csrf_from, sign_in
from tests.factories import PASSWORD
from tests.supervision.helpers import people, submitted, user, utc, validated

NOW = utc(2027, 3, 1, 9, 0)


@pytest.fixture
def ids(app, framework):
    app.config["FROZEN_NOW"] = NOW
    return people(app)


def _client(app, local: str):
    client = app.test_client()
    sign_in(client, f"{local}@example.nhs.uk", PASSWORD)
    return client


def _first_skills(app, count: int):
    with app.app_context():
        version = current_version()
        skills = [s for e in assessments.elements_of(version) for s in e.skills][:count]
        return [(s.id, s.key, s.text) for s in skills]


def _session_with_validation(app, ids) -> tuple[int, int, list]:
    with app.app_context():
        (session, following) = services.schedule_sessions(
            user("pat.prac"),
            user("sue.super"),
            date(2027, 3, 10),
            time(14, 0),
            place="Room 4",
            every_weeks=6,
            sessions=2,
        )
        db.session.commit()
        session_id = session.id
    skills = _first_skills(app, 2)
    (one, _, _), (two, _, _) = skills
    decisions = {
        one: assessments.Decision(1, "Needs supervised practice with care plans"),
        two: assessments.Decision(3, "Leads this for the team"),
    }
    assessment_id = validated(app, "pat.prac", utc(2027, 3, 10, 15, 0), decisions)
    with app.app_context():
        assessment = db.session.get_one(Assessment, assessment_id)
        first, second = assessment.framework_version.values[:2]
        for value, outcome, comment in (
            (first, ValueReviewOutcome.EVIDENCED, "Clear examples from home visits"),
            (second, ValueReviewOutcome.DISCUSS, "Talk through the missed review"),
        ):
            db.session.add(
                ValueReview(
                    assessment_id=assessment_id,
                    value_id=value.id,
                    outcome=outcome,
                    comment=comment,
                    reviewed_by_id=ids["sue.super"],
                    reviewed_at=utc(2027, 3, 10, 14, 30),
                )
            )
        db.session.commit()
    return session_id, assessment_id, skills


def test_the_record_shows_the_session_and_all_that_was_decided(app, ids):
    session_id, assessment_id, skills = _session_with_validation(app, ids)
    app.config["FROZEN_NOW"] = utc(2027, 3, 10, 16, 0)
    client = _client(app, "sue.super")
    page = f"/supervision/sessions/{session_id}"
    token = csrf_from(client.get(page).get_data(as_text=True))
    saved = client.post(
        page + "/actions",
        data={
            "csrf_token": token,
            "agreed_actions": "Shadow Sam on two home visits\nRead the policy",
        },
    )
    assert saved.status_code == 303
    with app.app_context():
        module = current_version().modules[0]
        module_key, module_title = module.key, module.title
    assigned = client.post(
        page + "/assign",
        data={
            "csrf_token": token,
            "module": module_key,
            "due_on": "2027-04-30",
            "note": "Before the next session",
        },
    )
    assert assigned.status_code == 303
    with app.app_context():
        link = db.session.scalar(select(SessionAssignment))
        assert link.session_id == session_id
        assignment = db.session.get_one(TrainingAssignment, link.assignment_id)
        assert (assignment.person_id, assignment.due_on) == (ids["pat.prac"], date(2027, 4, 30))

    for reader in ("sue.super", "pat.prac", "max.manager"):
        body = html.unescape(_client(app, reader).get(page).get_data(as_text=True))
        assert "Supervision record" in body
        assert "10 March 2027 at 2:00pm" in body
        assert "Pat Prac" in body and "Sue Super" in body and "Room 4" in body
        assert "Self-assessment 1 was validated on 10 March 2027 by Sue Super" in body
        (_, key_one, text_one), (_, key_two, text_two) = skills
        assert text_one in body and text_two in body
        assert key_one not in body
        assert "2 Competent" in body and "1 Developing" in body
        assert "Needs supervised practice with care plans" in body
        assert "Leads this for the team" in body
        assert "My reflection on" in body
        assert "Evidenced" in body and "Clear examples from home visits" in body
        assert "Discuss further" in body and "Talk through the missed review" in body
        assert "Shadow Sam on two home visits" in body
        assert module_title in body and "30 April 2027" in body
        assert "21 April 2027 at 2:00pm" in body  # the next session, six weeks on
        assert "Signatures" in body
    # the keyworker reads it but has no forms
    keyworker = _client(app, "pat.prac").get(page).get_data(as_text=True)
    assert 'name="agreed_actions"' not in keyworker and 'name="module"' not in keyworker
    # someone from another team cannot read it
    assert _client(app, "sam.south").get(page).status_code == 403
    # the keyworker sees the assigned module on home
    home = html.unescape(_client(app, "pat.prac").get("/").get_data(as_text=True))
    # once, in the training section (not again under the self-assessment)
    assert f"Assigned to you: {module_title}, due by 30 April 2027." in home
    assert home.count(f"Assigned to you: {module_title}") == 1
    assert "assigned to you, the first due" not in home


def test_refused_actions_and_assignments_keep_what_was_typed(app, ids):
    with app.app_context():
        (session,) = services.schedule_sessions(
            user("pat.prac"), user("sue.super"), date(2027, 3, 10), time(14, 0)
        )
        db.session.commit()
        session_id = session.id
        module_key = current_version().modules[0].key
    client = _client(app, "sue.super")
    page = f"/supervision/sessions/{session_id}"
    token = csrf_from(client.get(page).get_data(as_text=True))
    past = client.post(
        page + "/assign",
        data={
            "csrf_token": token,
            "module": module_key,
            "due_on": "2027-02-01",
            "note": "typed note",
        },
    )
    assert past.status_code == 400
    body = past.get_data(as_text=True)
    assert "The due date must be today or later" in body
    assert 'value="2027-02-01"' in body and 'value="typed note"' in body
    assert f'value="{module_key}" selected' in body
    unknown = client.post(
        page + "/assign", data={"csrf_token": token, "module": "no-such", "due_on": "2027-05-01"}
    )
    assert unknown.status_code == 400
    assert "Choose a module from the catalogue" in unknown.get_data(as_text=True)
    long_text = "x" * 5001
    refused = client.post(
        page + "/actions", data={"csrf_token": token, "agreed_actions": long_text}
    )
    assert refused.status_code == 400
    assert long_text in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(TrainingAssignment)) is None


def test_a_returned_assessment_shows_in_its_session_and_not_in_the_next(app, ids):
    with app.app_context():
        first, second = services.schedule_sessions(
            user("pat.prac"),
            user("sue.super"),
            date(2027, 3, 10),
            time(9, 0),
            every_weeks=4,
            sessions=2,
        )
        db.session.commit()
        first_id, second_id = first.id, second.id
    assessment_id = submitted(app, "pat.prac", utc(2027, 3, 5, 9, 0))
    with app.app_context():
        app.config["FROZEN_NOW"] = utc(2027, 3, 10, 11, 0)
        assessments.return_assessment(
            db.session.get_one(Assessment, assessment_id),
            user("sue.super"),
            "Add evidence for 2b",
            None,
        )
        db.session.commit()
    client = _client(app, "sue.super")
    body = html.unescape(client.get(f"/supervision/sessions/{first_id}").get_data(as_text=True))
    assert "Self-assessment 1 was returned for changes on 10 March 2027" in body
    assert "Add evidence for 2b" in body
    later = html.unescape(client.get(f"/supervision/sessions/{second_id}").get_data(as_text=True))
    assert "No self-assessment was validated or returned for this session yet" in later


def test_history_and_profile_read_as_text(app, ids):
    skills = _first_skills(app, 3)
    (one, key_one, text_one), (two, key_two, text_two), (three, key_three, text_three) = skills
    first = validated(
        app, "pat.prac", utc(2027, 3, 1, 9, 0), {one: assessments.Decision(1, "Not yet")}
    )
    client = _client(app, "pat.prac")
    profile = html.unescape(client.get(f"/people/{ids['pat.prac']}/profile").get_data(as_text=True))
    # a first cycle has nothing to compare with: no list of every skill
    assert "There is no earlier validated cycle to compare with yet." in profile
    history = html.unescape(client.get(f"/assessments/{first}/history").get_data(as_text=True))
    assert f"{text_one}" in history
    assert "2 Competent → 1 Developing" in history
    assert "Comment: “Not yet”" in history
    assert key_one not in history
    assert "Valid until 1 March 2028" in history
    # each event by a readable name, each state by its label, never the raw action
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", history))
    assert "Self-assessment started (Draft)" in text
    assert "Submitted for validation (Draft → Awaiting validation)" in text
    assert "Validated in supervision (Awaiting validation → Validated)" in text
    reviewed = AssessmentEvent(action="values reviewed", old_status=None, new_status=None)
    assert (reviewed.label, reviewed.change_label) == ("Core values reviewed in supervision", None)
    assert "draft →" not in history and "submitted →" not in history
    validated(
        app,
        "pat.prac",
        utc(2028, 2, 1, 9, 0),
        {two: assessments.Decision(3, "Leads it now"), three: assessments.Decision(1, "Lapsed")},
    )
    profile = html.unescape(client.get(f"/people/{ids['pat.prac']}/profile").get_data(as_text=True))
    changes = profile.split('id="changes">Changes since the previous cycle')[1].split("</ul>")[0]
    assert changes.count("<li>") == 3  # skill one 1 → 2, two 2 → 3, three 2 → 1
    assert f"{text_one}: 1 Developing → 2 Competent" in changes
    assert f"{text_two}: 2 Competent → 3 Expert / can support others" in changes
    assert "Leads it now" in changes
    assert "Supervisor's comment: “Lapsed”" in changes


def test_the_record_downloads_as_an_a4_pdf_drawn_offline(app, ids):
    session_id, _, _ = _session_with_validation(app, ids)
    response = _client(app, "pat.prac").get(f"/supervision/sessions/{session_id}/record.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert (
        f"supervision-record-{ids['pat.prac']}-2027-03-10.pdf"
        in (response.headers["Content-Disposition"])
    )
    content = response.data
    assert content.startswith(b"%PDF")
    # A4 is 595 x 842 points
    assert re.search(rb"/MediaBox\s*\[\s*0 0 595\.\d* 841\.\d*", _inflated(content))
    assert (
        _client(app, "sam.south").get(f"/supervision/sessions/{session_id}/record.pdf").status_code
        == 403
    )
    with app.app_context():
        event = db.session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "export", AuditEvent.target == f"session:{session_id}"
            )
        )
        assert event is not None and event.actor_id == ids["pat.prac"]


def _inflated(pdf: bytes) -> bytes:
    """The PDF with its compressed streams (object streams too) inflated, to search it."""
    parts = [pdf]
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        with contextlib.suppress(zlib.error):
            parts.append(zlib.decompress(stream))
    return b"\n".join(parts)


def test_the_pdf_fetches_nothing_from_outside():
    for url in ("https://example.com/tracker.png", "file:///etc/passwd", "data:,x"):
        with pytest.raises(ValueError, match="disallowed protocol"):
            offline_fetcher()(url)
    content = pdf_from_html('<p>Record</p><img src="https://example.com/tracker.png" alt="">')
    assert content.startswith(b"%PDF")
