"""Retention: every kind of record has a period with its source; the review lists a leaver's
records once a period after leaving has passed (in part, then whole) and a vacancy's
candidates after the closing date; HR confirms and the erasure runs as a job; bad choices
change nothing; the daily listing tells HR and administrators once a week."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from competency_app import create_app
from competency_app.accounts import services as accounts
from competency_app.accounts.models import AuditEvent, Role, User
from competency_app.clock import utcnow
from competency_app.config import parse_months
from competency_app.extensions import db
from competency_app.notifications.models import Notification
from competency_app.privacy import registry, retention
from competency_app.privacy.jobs import ERASE_BATCH, daily_retention, notify_reviewers
from competency_app.privacy.notice import SEEN_BY
from competency_app.recruitment.models import Candidate, Vacancy
from competency_app.recruitment.retention import CANDIDATE_TABLES
from tests.conftest import csrf_from, sign_in
from tests.factories import commit, make_organisation, make_team, make_user
from tests.privacy.test_erasure import BEN, BEN_NAME, DEMO_PASSWORD, HR, _figures
from tests.privacy.test_erasure import demo as demo  # the demo; Ben Hughes left today

KEYWORKER = "grace.lewis@demo.nhs.uk"


# ---- the rules ----------------------------------------------------------------------------


def test_every_kind_of_record_has_a_period_with_its_source(app):
    keys = {rule.key for rule in retention.DEFAULTS}
    assert {holding.kept for holding in registry.HOLDINGS} == keys
    assert all(rule.basis and rule.months > 0 for rule in retention.DEFAULTS)
    assert {holding.section for holding in registry.HOLDINGS} <= set(SEEN_BY)
    with app.app_context():
        rules = retention.rules()
        assert rules["staff_record"].period == "6 years after the member of staff leaves"
        assert rules["candidate"].period == "1 year after the closing date"
        assert "Records Management Code of Practice" in rules["staff_record"].basis


def test_the_candidate_purge_deletes_every_table_the_registry_holds_about_a_candidate():
    held = {
        h.table
        for h in registry.HOLDINGS
        if h.kind == registry.CANDIDATE and h.table != "candidate"
    }
    assert {model.__tablename__ for model in CANDIDATE_TABLES} == held


def test_the_services_own_policy_replaces_a_default_and_is_named(app):
    with app.app_context():
        app.config["RETENTION_MONTHS"] = {"staff_record": 84, "candidate": 12}
        app.config["RETENTION_POLICY"] = "Northshire records policy 2026"
        try:
            rules = retention.rules()
            assert rules["staff_record"].months == 84 and rules["staff_record"].policy
            assert rules["staff_record"].basis == "Northshire records policy 2026"
            assert not rules["candidate"].policy  # the same as the default
            assert retention.whole_months() == 84
            page = app.test_client().get("/privacy").get_data(as_text=True)
            assert "7 years after the member of staff leaves" in page
            assert "Northshire records policy 2026" in page
        finally:
            app.config["RETENTION_MONTHS"] = {}
            app.config["RETENTION_POLICY"] = ""


def test_retention_settings_are_checked_when_read_and_at_start_up():
    assert parse_months("staff_record=84, candidate=6") == {"staff_record": 84, "candidate": 6}
    for bad in ("staff_record", "staff_record=six", "candidate=0", "candidate=1201"):
        with pytest.raises(ValueError, match="RETENTION_MONTHS"):
            parse_months(bad)
    with pytest.raises(ValueError, match="'staf_record' is not a kind of record"):
        create_app("testing", {"RETENTION_MONTHS": {"staf_record": 84}})


def test_the_privacy_page_is_public_and_says_what_why_how_long_and_who(app):
    page = app.test_client().get("/privacy")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for words in (
        "Who can see it",
        "6 years after the member of staff leaves",
        "1 year after the closing date",
        "Records Management Code of Practice for Health and Social Care 2021",
        "Information Commissioner",
    ):
        assert words in text
    for holding in registry.staff_holdings():
        assert holding.purpose.replace("'", "&#39;") in text


# ---- the review ---------------------------------------------------------------------------


@pytest.fixture
def later(app):
    """Move the app's clock on by some days (reset afterwards)."""

    def move(days: int) -> None:
        app.config["FROZEN_NOW"] = utcnow() + timedelta(days=days)

    yield move
    app.config["FROZEN_NOW"] = None


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _organisation_id() -> int:
    return accounts.user_by_email(HR).organisation_id


def test_a_leaver_is_due_in_part_after_a_year_and_whole_after_six(app, demo, later):
    with app.app_context():
        organisation = [_organisation_id()]
        # the demo's own leavers: one seven years gone, one fourteen months
        shown = {d.person.name: d for d in retention.due_leavers(organisation)}
        assert shown["Sam Carter"].whole
        assert [r.key for r in shown["Morgan Lee"].classes] == ["notification"]
        assert not shown["Morgan Lee"].whole and BEN_NAME not in shown  # Ben left today
        assert _count(Notification, Notification.user_id == demo) > 0
        later(366)
        [due] = [d for d in retention.due_leavers(organisation) if d.person.id == demo]
        assert not due.whole
        assert {rule.key for rule in due.classes} <= {"notification", "sign_in"}
        assert "notification" in {rule.key for rule in due.classes}
        later(6 * 366)
        [due] = [d for d in retention.due_leavers(organisation) if d.person.id == demo]
        assert due.whole and due.whole_on <= date.today() + timedelta(days=6 * 366)
        # another organisation's HR sees nothing of it
        assert retention.due_leavers([make_organisation("county-council").id]) == []


def _confirm(client, data: dict):
    page = client.get("/privacy/retention").get_data(as_text=True)
    return client.post(
        "/privacy/retention",
        data={"csrf_token": csrf_from(page), **data},
        follow_redirects=False,
    )


def test_hr_erases_a_leaver_past_retention_and_past_figures_stay_true(app, demo, later):
    with app.app_context():
        past = utcnow() - timedelta(days=10)
        before = _figures(past)
        assert demo in before[0]
    later(6 * 366 + 1)
    client = app.test_client()
    sign_in(client, HR, DEMO_PASSWORD)
    page = client.get("/privacy/retention").get_data(as_text=True)
    assert BEN_NAME in page and "The whole record" in page
    done = _confirm(
        client, {"people": str(demo), "reason": "Retention period passed", "confirm": "yes"}
    )
    assert done.status_code == 303 and "/jobs/" in done.headers["Location"]
    job_page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "1 record erased" in job_page
    with app.app_context():
        ben = db.session.get_one(User, demo)
        assert ben.name == f"Erased person {demo}" and accounts.user_by_email(BEN) is None
        assert _figures(past) == before
        erased = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "personal_data_erased")
        )
        assert erased is not None and erased.target == f"Erased person {demo}"
        assert erased.actor.email == HR
        assert _count(AuditEvent, AuditEvent.action == "erasure_requested") == 1
    assert BEN_NAME not in client.get("/privacy/retention").get_data(as_text=True)


def test_a_leavers_shorter_kept_records_go_first_and_the_rest_stays(app, demo, later):
    with app.app_context():
        ratings = _count(
            db.metadata.tables["validated_rating"],
            db.metadata.tables["validated_rating"].c.person_id == demo,
        )
    later(400)
    client = app.test_client()
    sign_in(client, HR, DEMO_PASSWORD)
    done = _confirm(client, {"people": str(demo), "reason": "Retention", "confirm": "yes"})
    assert done.status_code == 303
    with app.app_context():
        ben = db.session.get_one(User, demo)
        assert ben.email == BEN  # not erased: the staff record is kept for 6 years
        assert _count(Notification, Notification.user_id == demo) == 0
        table = db.metadata.tables["validated_rating"]
        assert _count(table, table.c.person_id == demo) == ratings
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "personal_data_expired")
        )
        assert event is not None and "notification" in event.detail["classes"]
        assert demo not in {d.person.id for d in retention.due_leavers([ben.organisation_id])}


def test_hr_erases_a_vacancys_candidates_past_retention(app, demo, later):
    with app.app_context():
        vacancy = db.session.scalars(
            select(Vacancy).where(Vacancy.title == "Keyworker (band 5)")
        ).one()
        assert vacancy is not None and vacancy.candidates
        vacancy_id, closing = vacancy.id, vacancy.closing_date
        others = _count(Candidate, Candidate.vacancy_id != vacancy_id)
    later((closing - date.today()).days + 400)
    client = app.test_client()
    sign_in(client, HR, DEMO_PASSWORD)
    assert "Vacancies" in client.get("/privacy/retention").get_data(as_text=True)
    done = _confirm(client, {"vacancies": str(vacancy_id), "reason": "Retention", "confirm": "yes"})
    assert done.status_code == 303
    with app.app_context():
        assert _count(Candidate, Candidate.vacancy_id == vacancy_id) == 0
        assert _count(Candidate, Candidate.vacancy_id != vacancy_id) == others
        assert db.session.get_one(Vacancy, vacancy_id).purged_at is not None
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "candidates_purged")
        )
        assert event is not None and event.actor.email == HR


def test_bad_choices_are_refused_and_change_nothing(app, demo, later):
    later(6 * 366 + 1)
    with app.app_context():
        council = make_organisation("county-council")
        stranger = make_user(
            "left.elsewhere",
            Role.PRACTITIONER,
            team=make_team("council-team", organisation=council),
            organisation=council,
        )
        accounts.set_leaving_date(stranger, date.today() - timedelta(days=3000), None)
        accounts.set_active(stranger, False, None)
        active = accounts.user_by_email(KEYWORKER).id
        stranger_id = stranger.id
        commit()
    client = app.test_client()
    sign_in(client, HR, DEMO_PASSWORD)
    cases = [
        ({"reason": "R", "confirm": "yes"}, "Choose at least one leaver or vacancy"),
        ({"people": "x", "reason": "R", "confirm": "yes"}, "Choose records from the lists"),
        ({"people": str(active), "reason": "R", "confirm": "yes"}, "not past their retention"),
        ({"people": str(stranger_id), "reason": "R", "confirm": "yes"}, "not your organisation"),
        ({"people": str(demo), "confirm": "yes"}, "Enter the reason for the erasure"),
        ({"people": str(demo), "reason": "R" * 501, "confirm": "yes"}, "500 characters or fewer"),
        ({"people": str(demo), "reason": "Kept typing"}, "needed for a complaint"),
        (
            {
                "people": [str(i) for i in range(1, ERASE_BATCH + 2)],
                "reason": "R",
                "confirm": "yes",
            },
            f"Choose at most {ERASE_BATCH} records at a time (you chose {ERASE_BATCH + 1})",
        ),
    ]
    for data, message in cases:
        answer = _confirm(client, data)
        text = answer.get_data(as_text=True).replace("&#39;", "'")
        assert answer.status_code == 400, message
        assert message in text, message
    kept = _confirm(client, {"people": str(demo), "reason": "Kept typing"}).get_data(as_text=True)
    assert "Kept typing" in kept and f'value="{demo}" checked' in kept
    with app.app_context():
        assert accounts.user_by_email(BEN) is not None
        assert _count(AuditEvent, AuditEvent.action == "erasure_requested") == 0


def test_only_hr_and_administrators_review_retention(app, demo):
    keyworker = app.test_client()
    sign_in(keyworker, KEYWORKER, DEMO_PASSWORD)
    assert keyworker.get("/privacy/retention").status_code == 403
    assert keyworker.get("/privacy").status_code == 200
    assert app.test_client().get("/privacy/retention").status_code == 302  # sign in first


def test_the_daily_listing_tells_hr_and_administrators_once_a_week(app, demo, later):
    with app.app_context():
        on = utcnow().date()
        written = notify_reviewers(on)
        commit()
        reviewers = set(
            db.session.scalars(
                select(Notification.user_id).where(Notification.kind == "records_past_retention")
            )
        )
        hr = accounts.user_by_email(HR)
        assert written == len(reviewers) >= 1 and hr.id in reviewers
        for person_id in reviewers:
            roles = db.session.get_one(User, person_id).role_set
            assert roles & {Role.HR, Role.ADMIN}
        assert notify_reviewers(on) == 0  # the same week: no second one
        commit()


def test_the_workers_daily_task_writes_the_note(app, demo):
    with app.app_context():
        daily_retention()  # in-process: runs now, as the worker does at 03:15
        hr = accounts.user_by_email(HR)
        notes = db.session.scalars(
            select(Notification).where(
                Notification.kind == "records_past_retention", Notification.user_id == hr.id
            )
        ).all()
        assert len(notes) == 1 and notes[0].link == "/privacy/retention"
        assert notes[0].fields["count"] == 3  # the demo's two leavers and old vacancy
