"""The supervision cycle's reminders through a real SMTP server: the self-assessment due soon
and overdue, supervision tomorrow (to both people), required training expiring in 60 and 30
days and expired, and modules assigned (written with the assignment). Each once, with the
right link; a missed run catches up once; running twice sends nothing new."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from competency_app.accounts.models import Role, User
from competency_app.assessments import services as assessments
from competency_app.common.dates import LONDON, add_months, uk_date
from competency_app.database import unit_of_work
from competency_app.extensions import db
from competency_app.framework.services import current_version
from competency_app.notifications.models import EmailState, Notification
from competency_app.supervision import services as supervision
from competency_app.training.models import ModuleCompletion
from competency_app.training.services import AssignmentError, assign_module
from tests.factories import commit, make_team, make_user, reflect_on_values
from tests.notifications.conftest import PUBLIC_URL, html_of, text_of

OLIVER = "module.oliver-mcgowan"  # required, refreshed every 36 months
OLIVER_DAY = "module.oliver-mcgowan-tier2-day"  # its other part, on the same cycle


def email(local: str) -> str:
    return f"{local}@example.nhs.uk"


def person(local: str) -> User:
    found = db.session.scalar(select(User).where(User.email == email(local)))
    assert found is not None
    return found


def at(app, moment: datetime) -> None:
    app.config["FROZEN_NOW"] = moment


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12, 0), tzinfo=LONDON).astimezone(UTC)


def reminders(runner) -> str:
    result = runner.invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def team(app, framework):
    with app.app_context():
        north = make_team("north")
        sue = make_user("sue.super", Role.SUPERVISOR, team=north)
        make_user("pat.prac", Role.PRACTITIONER, team=north, supervisor=sue)
        make_user("kim.prac", Role.PRACTITIONER, team=north, supervisor=sue)
        commit()


START = date(2027, 3, 1)
SESSION_DAY = date(2027, 3, 22)  # a Monday, before the clocks change


def test_self_assessment_due_overdue_and_supervision_tomorrow(app, team, inbox, runner):
    at(app, noon(START))
    with app.app_context():
        with unit_of_work():
            [session] = supervision.schedule_sessions(
                person("pat.prac"), person("sue.super"), SESSION_DAY, time(10, 0)
            )
        session_id, pat_id = session.id, person("pat.prac").id
        version = current_version()
        assert version is not None
        due = version.settings.review_cycle.self_assessment_due(SESSION_DAY)
    assert due - START > timedelta(days=7)
    assert "0 new reminders" in reminders(runner)
    assert inbox.messages == []

    at(app, noon(due - timedelta(days=4)))  # the 7-day reminder, three days late
    assert "self_assessment_due: 1 new" in reminders(runner)
    assert "0 new reminders" in reminders(runner)
    [soon] = inbox.messages
    assert soon["To"] == email("pat.prac")
    assert soon["Subject"] == f"Your self-assessment is due on {uk_date(due)}"
    assert f"{PUBLIC_URL}/assessments\r\n" in text_of(soon)
    assert f'href="{PUBLIC_URL}/assessments"' in html_of(soon)

    with app.app_context():  # started but not submitted: the link opens it
        with unit_of_work():
            assessment = assessments.start_assessment(person("pat.prac"))
        assessment_id = assessment.id
    at(app, noon(due + timedelta(days=3)))  # overdue, the run of its day missed
    out = reminders(runner)
    assert "self_assessment_overdue: 1 new" in out and "self_assessment_due" not in out
    assert "0 new reminders" in reminders(runner)
    overdue = inbox.messages[-1]
    assert overdue["To"] == email("pat.prac")
    assert overdue["Subject"] == "Your self-assessment is overdue"
    assert f"was due on {uk_date(due)}" in text_of(overdue)
    assert f"{PUBLIC_URL}/assessments/{assessment_id}" in text_of(overdue)
    inbox.clear()

    at(app, noon(SESSION_DAY - timedelta(days=1)))
    assert "supervision_tomorrow: 2 new" in reminders(runner)
    assert "0 new reminders" in reminders(runner)
    assert inbox.subjects() == [
        (email("pat.prac"), f"Supervision tomorrow, {uk_date(SESSION_DAY)}"),
        (email("sue.super"), f"Supervision tomorrow, {uk_date(SESSION_DAY)}"),
    ]
    [to_pat] = inbox.to(email("pat.prac"))
    [to_sue] = inbox.to(email("sue.super"))
    assert "at 10:00am with Sue Super" in text_of(to_pat)
    assert "at 10:00am with Pat Prac" in text_of(to_sue)
    for message in (to_pat, to_sue):
        assert f"{PUBLIC_URL}/supervision/sessions/{session_id}" in text_of(message)
    at(app, noon(SESSION_DAY + timedelta(days=2)))  # nothing more about this session
    reminders(runner)
    assert len(inbox.messages) == 2
    with app.app_context():
        rows = db.session.scalars(select(Notification).where(Notification.user_id == pat_id))
        assert {row.kind for row in rows} == {
            "self_assessment_due",
            "self_assessment_overdue",
            "supervision_tomorrow",
        }
        assert set(db.session.scalars(select(Notification.email_state))) == {EmailState.SENT}


def test_submitted_or_cancelled_means_no_reminder(app, team, inbox, runner):
    at(app, noon(START))
    with app.app_context():
        sue = person("sue.super")
        with unit_of_work():
            supervision.schedule_sessions(person("pat.prac"), sue, SESSION_DAY, time(10, 0))
            [kims] = supervision.schedule_sessions(
                person("kim.prac"), sue, SESSION_DAY, time(14, 0)
            )
        with unit_of_work():
            supervision.cancel(kims, sue)
        pat = person("pat.prac")
        with unit_of_work():
            assessment = assessments.start_assessment(pat)
            for element in assessments.elements_of(assessment.framework_version):
                assessments.save_element(
                    assessment, pat, element, {s.id: (2, "e") for s in element.skills}, None
                )
            reflect_on_values(assessment, pat)
            assessments.submit(assessment, pat, None)
    inbox.clear()  # the submission's notice to Sue
    at(app, noon(SESSION_DAY - timedelta(days=3)))  # Pat's would be overdue; Kim's cancelled
    assert "0 new reminders" in reminders(runner)
    assert inbox.messages == []


def test_required_training_expiring_and_expired(app, team, inbox, runner):
    completed = date(2024, 5, 10)
    expiry = add_months(completed, 36)
    with app.app_context():
        pat = person("pat.prac")
        for key in (OLIVER, OLIVER_DAY):  # both parts of the item, done the same day
            db.session.add(
                ModuleCompletion(
                    person_id=pat.id,
                    module_key=key,
                    completed_on=completed,
                    recorded_at=noon(completed),
                    recorded_by_id=pat.id,
                )
            )
        commit()
        pat_id = pat.id
    at(app, noon(expiry - timedelta(days=63)))
    assert "0 new reminders" in reminders(runner)
    at(app, noon(expiry - timedelta(days=60)))  # three days later: the 60-day reminder
    assert "training_expiring: 1 new" in reminders(runner)
    assert "0 new reminders" in reminders(runner)
    [sixty] = inbox.messages
    assert sixty["To"] == email("pat.prac")
    assert sixty["Subject"] == f"Required training expires on {uk_date(expiry)}"
    assert "Oliver McGowan" in text_of(sixty) and "in 60 days or less" in text_of(sixty)
    assert f"{PUBLIC_URL}/people/{pat_id}/development" in text_of(sixty)

    at(app, noon(expiry - timedelta(days=27)))  # the 30-day window, reached between runs
    reminders(runner)
    reminders(runner)
    assert len(inbox.messages) == 2
    assert "in 30 days or less" in text_of(inbox.messages[-1])

    at(app, noon(expiry + timedelta(days=3)))
    assert "training_expired: 1 new" in reminders(runner)
    assert "0 new reminders" in reminders(runner)
    assert inbox.messages[-1]["Subject"] == f"Required training expired on {uk_date(expiry)}"
    assert len(inbox.messages) == 3
    assert {m["To"] for m in inbox.messages} == {email("pat.prac")}  # Kim has no refresh due

    with app.app_context():  # the refresher is done: nothing more about the old date
        for key in (OLIVER, OLIVER_DAY):
            db.session.add(
                ModuleCompletion(
                    person_id=pat_id,
                    module_key=key,
                    completed_on=expiry + timedelta(days=4),
                    recorded_at=noon(expiry),
                    recorded_by_id=pat_id,
                )
            )
        commit()
    at(app, noon(expiry + timedelta(days=10)))
    assert "0 new reminders" in reminders(runner)


def test_module_assigned_is_told_with_the_assignment(app, team, inbox):
    at(app, noon(START))
    due = START + timedelta(days=30)
    with app.app_context():
        version = current_version()
        assert version is not None
        pat, sue = person("pat.prac"), person("sue.super")
        with pytest.raises(AssignmentError), unit_of_work():
            assign_module(pat, OLIVER, START - timedelta(days=1), sue, version)
        assert inbox.messages == []  # refused: nothing written, nothing sent
        with unit_of_work():
            assign_module(pat, OLIVER, due, sue, version)
        pat_id = pat.id
    [message] = inbox.messages
    assert message["To"] == email("pat.prac")
    assert message["Subject"] == f"E-learning assigned to you: complete it by {uk_date(due)}"
    body = text_of(message)
    assert "Sue Super has assigned you the e-learning module" in body and "Oliver McGowan" in body
    assert f"{PUBLIC_URL}/people/{pat_id}/development" in body
    with app.app_context():
        [row] = db.session.scalars(select(Notification))
        assert row.kind == "modules_assigned" and row.email_state == EmailState.SENT
