"""Every kind of notification that has data today, delivered once to the right person with
the right link through a real SMTP server; preferences; in-app without MAIL_SERVER; reminders
that never repeat, catch up after missed days, and are sent once by two processes at once."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from competency_app.accounts.models import Role, User
from competency_app.assessments import services as assessments
from competency_app.clock import utcnow
from competency_app.database import unit_of_work
from competency_app.extensions import db
from competency_app.notifications import services as notices
from competency_app.notifications.catalogue import KINDS
from competency_app.notifications.models import EmailState, Notification
from competency_app.recruitment import services as recruitment
from tests.conftest import csrf_from, sign_in
from tests.factories import PASSWORD, commit, make_user, reflect_on_values
from tests.notifications.conftest import PUBLIC_URL, html_of, text_of

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def email(local: str) -> str:
    return f"{local}@example.nhs.uk"


def person(local: str) -> User:
    found = db.session.scalar(select(User).where(User.email == email(local)))
    assert found is not None
    return found


def rate_everything(assessment, who, level: int = 2) -> None:
    for element in assessments.elements_of(assessment.framework_version):
        assessments.save_element(
            assessment, who, element, {s.id: (level, "my evidence") for s in element.skills}, None
        )
    reflect_on_values(assessment, who)


def test_assessment_submitted_returned_validated(app, team, inbox):
    with app.app_context():
        pat, sue = person("pat.prac"), person("sue.super")
        with unit_of_work():
            assessment = assessments.start_assessment(pat)
            rate_everything(assessment, pat)
            reflect_on_values(assessment, pat)
            assessments.submit(assessment, pat, None)
        assessment_id = assessment.id
    [submitted] = inbox.to(email("sue.super"))
    assert submitted["Subject"] == "Pat Prac has submitted a self-assessment"
    assert f"{PUBLIC_URL}/supervision/{assessment_id}" in text_of(submitted)
    assert f'href="{PUBLIC_URL}/supervision/{assessment_id}"' in html_of(submitted)
    assert "my evidence" not in text_of(submitted)  # a link to the page, never the content

    with app.app_context():
        assessment = assessments.assessments_of(person("pat.prac"))[0]
        with unit_of_work():
            assessments.return_assessment(assessment, person("sue.super"), "More on 1a", None)
    [returned] = inbox.to(email("pat.prac"))
    assert returned["Subject"] == "Your self-assessment has been returned"
    assert f"{PUBLIC_URL}/assessments/{assessment_id}" in text_of(returned)
    assert "More on 1a" not in text_of(returned)

    with app.app_context():
        pat, sue = person("pat.prac"), person("sue.super")
        assessment = assessments.assessments_of(pat)[0]
        with unit_of_work():
            reflect_on_values(assessment, pat)
            assessments.submit(assessment, pat, None)  # the second submission: a new notice
        with unit_of_work():
            assessments.validate(assessment, sue, {}, None)
        pat_id = pat.id
    assert len(inbox.to(email("sue.super"))) == 2
    validated = inbox.to(email("pat.prac"))[-1]
    assert validated["Subject"] == "Your self-assessment has been validated"
    assert f"{PUBLIC_URL}/people/{pat_id}/profile" in text_of(validated)
    assert len(inbox.messages) == 4

    client = app.test_client()
    sign_in(client, email("pat.prac"), PASSWORD)
    home = client.get("/").get_data(as_text=True)
    assert "Your self-assessment has been validated" in home
    assert "Your self-assessment has been returned" in home
    with app.app_context():
        states = set(db.session.scalars(select(Notification.email_state)))
        assert states == {EmailState.SENT}


def expiring_team(app) -> date:
    """Pat's validations, made now; returns their expiry date."""
    with app.app_context():
        pat, sue = person("pat.prac"), person("sue.super")
        with unit_of_work():
            assessment = assessments.start_assessment(pat)
            rate_everything(assessment, pat)
            reflect_on_values(assessment, pat)
            assessments.submit(assessment, pat, None)
            assessments.validate(assessment, sue, {}, None)
        expiry = db.session.scalar(
            select(func.min(assessments.CurrentRating.expires_at)).where(
                assessments.CurrentRating.person_id == pat.id
            )
        )
        assert expiry is not None
    return expiry


def at(app, moment) -> None:
    app.config["FROZEN_NOW"] = moment


def reminders(runner) -> str:
    result = runner.invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    return result.output


def test_validation_reminders_never_repeat_and_catch_up(app, team, inbox, runner):
    expiry = expiring_team(app)
    inbox.clear()
    at(app, expiry - timedelta(days=63))
    assert "0 new reminders" in reminders(runner)
    at(app, expiry - timedelta(days=60))  # three days later: the 60-day reminder, missed
    assert "validations_expiring: 1 new" in reminders(runner)
    assert "0 new reminders" in reminders(runner)  # twice: nothing new
    [sixty] = inbox.to(email("pat.prac"))
    assert "expire on" in sixty["Subject"]
    assert "in 60 days or less" in text_of(sixty)

    at(app, expiry - timedelta(days=27))  # the 30-day window, reached while no run happened
    reminders(runner)
    reminders(runner)
    assert len(inbox.to(email("pat.prac"))) == 2
    assert "in 30 days or less" in text_of(inbox.to(email("pat.prac"))[-1])

    at(app, expiry + timedelta(days=3))  # expired three days ago
    assert "validations_expired: 1 new" in reminders(runner)
    assert "0 new reminders" in reminders(runner)
    mail = inbox.to(email("pat.prac"))
    assert len(mail) == 3
    assert "expired on" in mail[-1]["Subject"]
    with app.app_context():
        pat_id = person("pat.prac").id
    assert f"{PUBLIC_URL}/people/{pat_id}/profile" in text_of(mail[-1])
    assert len(inbox.messages) == 3  # nobody else was told anything


def test_recruitment_panel_notifications_follow_the_lifecycle(app, team, inbox, runner):
    """Shortlisting is a daily reminder while the vacancy is being shortlisted; the panel is
    asked to score when the vacancy moves to interviewing (the lay member included, after
    their invitation email); the chair is told when a candidate's scores are all in."""
    with app.app_context():
        sue, max_, rae = person("sue.super"), person("max.manager"), person("rae.recruit")
        north = sue.roles[0].team
        vacancy = keyworker_vacancy()
        with unit_of_work():
            candidate = recruitment.add_candidate(vacancy, "Cara Candidate", "", None)
            closed = recruitment.create_vacancy(
                north, "Old post", date.today(), [sue, max_], [sue, max_], max_, rae
            )
            recruitment.add_candidate(closed, "Olly Old", "", None)
            recruitment.move_vacancy(closed, "closed", rae)
        vacancy_id, candidate_id, reference = vacancy.id, candidate.id, candidate.reference
    reminders(runner)
    assert inbox.subjects() == [  # nothing about the closed vacancy
        (email("max.manager"), "Shortlisting for Keyworker"),
        (email("sue.super"), "Shortlisting for Keyworker"),
    ]
    assert f"{PUBLIC_URL}/recruitment/{vacancy_id}" in text_of(inbox.messages[0])
    assert "Cara" not in text_of(inbox.messages[0])  # no candidate details
    inbox.clear()

    with app.app_context():
        vacancy = db.session.get_one(recruitment.Vacancy, vacancy_id)
        candidate = db.session.get_one(recruitment.Candidate, candidate_id)
        marks = {
            c.key: ((True, None) if c.requirement == "essential" else (None, 2))
            for c in recruitment.shortlist_criteria(vacancy)
        }
        with unit_of_work():
            for who in ("sue.super", "max.manager"):
                recruitment.save_shortlist(candidate, person(who), marks)
        with unit_of_work():
            lay, token = recruitment.invite_panel_member(
                vacancy, "Pat Parent", "pat@example.org", person("rae.recruit")
            )
        lay_id = lay.id
    # the invitation: emailed with its one-time link, which the outbox never keeps
    [invitation] = inbox.to("pat@example.org")
    assert invitation["Subject"] == "You are invited to the interview panel for Keyworker"
    assert f"{PUBLIC_URL}/set-password/{token}" in text_of(invitation)
    assert f'href="{PUBLIC_URL}/set-password/{token}"' in html_of(invitation)
    with app.app_context():
        row = db.session.scalar(select(Notification).where(Notification.user_id == lay_id))
        assert row is not None and row.kind == "panel_invitation"
        assert row.email_state == EmailState.SENT
        assert token not in repr((row.subject, row.link, row.fields))
    assert app.test_client().get(f"/set-password/{token}").status_code == 200
    assert "0 new reminders" in reminders(runner)  # every candidate is marked
    assert len(inbox.messages) == 1
    inbox.clear()

    with app.app_context():
        vacancy = db.session.get_one(recruitment.Vacancy, vacancy_id)
        with unit_of_work():
            recruitment.move_vacancy(vacancy, "interviewing", person("rae.recruit"))
    assert inbox.subjects() == [
        (email("max.manager"), "Interview scores for Keyworker"),
        ("pat@example.org", "Interview scores for Keyworker"),
        (email("sue.super"), "Interview scores for Keyworker"),
    ]
    assert f"{PUBLIC_URL}/recruitment/{vacancy_id}" in text_of(inbox.messages[0])
    inbox.clear()

    with app.app_context():
        vacancy = db.session.get_one(recruitment.Vacancy, vacancy_id)
        candidate = db.session.get_one(recruitment.Candidate, candidate_id)
        scores = {c.key: (3, "") for c in recruitment.interview_criteria(vacancy)}
        with unit_of_work():
            for who in (person("sue.super"), person("max.manager")):
                recruitment.save_scores(candidate, who, scores, True)
        assert inbox.messages == []  # the lay member has not submitted yet
        with unit_of_work():
            recruitment.save_scores(candidate, db.session.get_one(User, lay_id), scores, True)
    [ready] = inbox.messages
    assert ready["To"] == email("max.manager")  # the chair
    assert ready["Subject"] == "Interview scores ready to agree for Keyworker"
    assert reference in text_of(ready) and "Cara" not in text_of(ready)
    assert f"{PUBLIC_URL}/recruitment/{vacancy_id}/ranking" in text_of(ready)
    assert "0 new reminders" in reminders(runner)
    assert len(inbox.messages) == 1


def test_password_link_emailed_on_import_and_never_stored(app, team, inbox, runner, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email,role,team\nZoe Zed,zoe.zed@example.nhs.uk,practitioner,north\n")
    result = runner.invoke(args=["import-staff", str(roster)])
    assert result.exit_code == 0, result.output
    [message] = inbox.to("zoe.zed@example.nhs.uk")
    assert message["Subject"] == "Choose your password for the keyworking competency tracker"
    body = text_of(message)
    assert "/set-password/" in body
    token = body.split("/set-password/")[1].split()[0]
    with app.app_context():
        row = db.session.scalar(select(Notification))
        assert row is not None and row.email_state == EmailState.SENT
        assert token not in repr((row.subject, row.link, row.fields))
    # the link works
    client = app.test_client()
    assert client.get(f"/set-password/{token}").status_code == 200


def test_each_person_can_turn_an_email_off_but_not_account_emails(app, team, inbox):
    client = app.test_client()
    sign_in(client, email("pat.prac"), PASSWORD)
    page = client.get("/notifications/settings").get_data(as_text=True)
    assert "Your self-assessment is validated" in page
    assert KINDS["password_link"].label not in page
    wanted = [k for k, kind in KINDS.items() if kind.optional and k != "assessment_validated"]
    response = client.post(
        "/notifications/settings", data={"kinds": wanted, "csrf_token": csrf_from(page)}
    )
    assert response.status_code == 303
    page = client.get("/notifications/settings").get_data(as_text=True)
    assert 'value="assessment_validated"' in page
    assert 'value="assessment_validated" checked' not in page
    refused = client.post(
        "/notifications/settings", data={"kinds": ["nonsense"], "csrf_token": csrf_from(page)}
    )
    assert refused.status_code == 400 and "There is a problem" in refused.get_data(as_text=True)

    expiring_team(app)  # submitted (to Sue) and validated (to Pat, who turned it off)
    assert [m["To"] for m in inbox.messages] == [email("sue.super")]
    with app.app_context():
        row = db.session.scalar(
            select(Notification).where(Notification.kind == "assessment_validated")
        )
        assert row is not None and row.email_state == EmailState.OFF
    listing = client.get("/notifications").get_data(as_text=True)
    assert "Your self-assessment has been validated" in listing  # still listed in-app
    token = csrf_from(listing)
    client.post("/notifications/read", data={"csrf_token": token})
    with app.app_context():
        assert (
            db.session.scalar(
                select(Notification.read_at).where(Notification.user_id == person("pat.prac").id)
            )
            is not None
        )


def test_without_a_mail_server_notifications_are_in_app_only(app, team, smtp_server):
    inbox, _port = smtp_server
    assert not app.config["MAIL_SERVER"]
    expiring_team(app)
    assert inbox.messages == []
    with app.app_context():
        states = set(db.session.scalars(select(Notification.email_state)))
        assert states == {EmailState.IN_APP}
    client = app.test_client()
    sign_in(client, email("sue.super"), PASSWORD)
    assert "Pat Prac has submitted a self-assessment" in client.get("/").get_data(as_text=True)


def test_an_unreachable_mail_server_fails_and_is_retried(app, team, inbox, runner):
    port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = 1  # nothing listens there
    try:
        expiring_team(app)
    finally:
        app.config["MAIL_PORT"] = port
    with app.app_context():
        assert set(db.session.scalars(select(Notification.email_state))) == {EmailState.FAILED}
    assert inbox.messages == []
    assert "2 failed emails to retry" in reminders(runner)
    assert sorted(m["To"] for m in inbox.messages) == [email("pat.prac"), email("sue.super")]


def test_two_processes_at_once_send_each_reminder_once(app, team, inbox, tmp_path):
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("two processes at once: run on PostgreSQL (TEST_DATABASE_URL)")
    # validations that expire within 60 days of the real clock, for several people
    with app.app_context():
        sue = person("sue.super")
        north = sue.roles[0].team
        for n in range(6):
            make_user(f"kw{n}.north", Role.PRACTITIONER, team=north, supervisor=sue)
        commit()
        people = ["pat.prac"] + [f"kw{n}.north" for n in range(6)]
        for local in people:
            who = person(local)
            with unit_of_work():
                assessment = assessments.start_assessment(who)
                rate_everything(assessment, who)
                reflect_on_values(assessment, who)
                assessments.submit(assessment, who, None)
                assessments.validate(assessment, person("sue.super"), {}, None)
        with unit_of_work():
            db.session.execute(
                assessments.CurrentRating.__table__.update().values(
                    expires_at=utcnow() + timedelta(days=20)
                )
            )
    inbox.clear()
    env = {
        **os.environ,
        "APP_ENV": "testing",
        "DATABASE_URL": url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(app.config["MAIL_PORT"]),
        "PUBLIC_URL": PUBLIC_URL,
        "JSON_LOGS": "0",
    }
    env.pop("JOBS_REDIS_URL", None)
    command = [sys.executable, "-m", "flask", "--app", "competency_app", "send-reminders"]
    runs = [
        subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    for run, (_out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err.decode()
    recorded = sum(
        int(line.split()[0])
        for out, _ in outputs
        for line in out.decode().splitlines()
        if "new reminders recorded" in line
    )
    assert recorded == len(people)  # between them, each reminder recorded once
    assert sorted(m["To"] for m in inbox.messages) == sorted(email(p) for p in people)
    with app.app_context():
        assert set(db.session.scalars(select(Notification.email_state))) == {EmailState.SENT}


def keyworker_vacancy() -> recruitment.Vacancy:
    """A Keyworker vacancy for the north team: Sue and Max shortlist and interview, Max
    chairs, Rae recruits (committed)."""
    sue, max_, rae = person("sue.super"), person("max.manager"), person("rae.recruit")
    with unit_of_work():
        vacancy = recruitment.create_vacancy(
            sue.roles[0].team,
            "Keyworker",
            date.today() + timedelta(days=30),
            [sue, max_],
            [sue, max_],
            max_,
            rae,
        )
    return vacancy


def test_an_invitation_without_a_mail_server_is_kept_out_of_the_in_app_list(app, team):
    assert not app.config["MAIL_SERVER"]
    with app.app_context():
        rae = person("rae.recruit")
        vacancy = keyworker_vacancy()
        with unit_of_work():
            lay, token = recruitment.invite_panel_member(
                vacancy, "Pat Parent", "pat@example.org", rae
            )
        [row] = db.session.scalars(select(Notification).where(Notification.user_id == lay.id))
        assert row.kind == "panel_invitation" and row.email_state == EmailState.IN_APP
        assert token not in repr((row.subject, row.link, row.fields))
        assert notices.recent_for(lay) == [] and notices.unread_count(lay) == 0
