"""A conditional offer: the pre-employment checks the framework file lists (the DBS check
the person specification's source makes appointment conditional upon, references, right to
work, occupational health) stand between the offer and the appointment. Each is recorded by
HR or a recruiter with its date and outcome; appointing waits until every one is
satisfactory or waived with a reason; every recording is audited; no email mentions them."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from competency_app.accounts import services as accounts
from competency_app.clock import today
from competency_app.extensions import db
from competency_app.notifications.models import Notification
from competency_app.recruitment import checks, services
from competency_app.recruitment.models import Candidate, PreEmploymentCheckRecord
from tests.factories import commit
from tests.recruitment.test_lifecycle import (
    _actions,
    _client,
    _forward,
    _post,
    _vacancy,
    user,
    world,  # noqa: F401 - the fixture, used below
)

pytestmark = pytest.mark.usefixtures("world")

CHECK_IDS = ["dbs-enhanced", "references", "right-to-work", "occupational-health"]


def _offered(app) -> tuple[int, int]:
    """Cara offered the post (no check recorded yet): (vacancy id, candidate id)."""
    with app.app_context():
        vacancy = _vacancy()
        cara = vacancy.candidates[0]
        rae, amy, bob = user("rae.recruit"), user("amy.panel"), user("bob.panel")
        _forward(cara)
        services.move_vacancy(vacancy, "interviewing", rae)
        keys = [c.key for c in services.interview_criteria(vacancy)]
        for person in (amy, bob):
            services.save_scores(cara, person, {k: (4, "") for k in keys}, True)
        services.save_agreed(cara, bob, {k: 4 for k in keys})
        services.move_vacancy(vacancy, "decided", bob)
        services.make_offer(cara, rae)
        commit()
        return vacancy.id, cara.id


def _appoint(client, vacancy_id, cara_id, sue_id):
    path = f"/recruitment/{vacancy_id}/candidates/{cara_id}/appoint"
    start = (date.today() + timedelta(days=30)).isoformat()
    data = {"email": "cara.new@nhs.net", "start_date": start, "supervisor": sue_id}
    return _post(client, path, path, data)


def test_the_keyworking_file_lists_the_checks_the_sources_name(app):
    with app.app_context():
        found = checks.checks_for(_vacancy())
    assert [c.id for c in found] == CHECK_IDS
    dbs = found[0]
    assert "barred lists" in dbs.label and "children's and adults'" in dbs.label
    assert "Disclosure and Barring Service (DBS)" in (dbs.source or "")
    assert "Two" in found[1].label


def test_a_conditional_offer_is_appointed_only_once_every_check_is_cleared(app):
    vacancy_id, cara_id = _offered(app)
    with app.app_context():
        sue_id = user("sue.super").id
    rae = _client(app, "rae.recruit")
    # the appoint page says why not and offers no form; posting it anyway is refused
    page = html.unescape(
        rae.get(f"/recruitment/{vacancy_id}/candidates/{cara_id}/appoint").get_data(as_text=True)
    )
    assert "Checks outstanding" in page and "Work email" not in page
    refused = _appoint(rae, vacancy_id, cara_id, sue_id)
    assert refused.status_code == 409
    text = html.unescape(refused.get_data(as_text=True))
    assert "Enhanced DBS check with children's and adults' barred lists" in text
    assert "Occupational health clearance" in text
    with app.app_context():
        assert accounts.user_by_email("cara.new@nhs.net") is None
        assert db.session.get(Candidate, cara_id).offer == "offered"
        rae_user = user("rae.recruit")
        cara = db.session.get(Candidate, cara_id)
        for key in CHECK_IDS[:2]:
            checks.record_check(cara, key, "satisfactory", today(), "", rae_user)
        checks.record_check(cara, CHECK_IDS[2], "not_satisfactory", today(), "", rae_user)
        commit()
        # satisfactory and waived clear a check; not satisfactory and outstanding do not
        assert [s.check.id for s in checks.outstanding(cara)] == CHECK_IDS[2:]
    refused = _appoint(rae, vacancy_id, cara_id, sue_id)
    assert refused.status_code == 409
    text = html.unescape(refused.get_data(as_text=True))
    assert "Right to work in the UK and Occupational health clearance are not yet" in text
    assert "Two satisfactory references" not in text.split("There is a problem")[1][:400]
    with app.app_context():
        cara = db.session.get(Candidate, cara_id)
        rae_user = user("rae.recruit")
        checks.record_check(cara, CHECK_IDS[2], "satisfactory", today(), "", rae_user)
        checks.record_check(
            cara, CHECK_IDS[3], "waived", today(), "Cleared by OH for us in May", rae_user
        )
        commit()
    done = _appoint(rae, vacancy_id, cara_id, sue_id)
    assert done.status_code == 200, done.get_data(as_text=True)[:300]
    with app.app_context():
        assert db.session.get(Candidate, cara_id).offer == "appointed"
        rae_id = user("rae.recruit").id
        # every recording audited, by reference and check, never the name or the reason
        recorded = _actions("pre_employment_check_recorded")
        waived = _actions("pre_employment_check_waived")
        assert sorted(e.detail["check"] for e in recorded) == sorted([*CHECK_IDS[:3], CHECK_IDS[2]])
        assert [e.detail["previous"] for e in recorded if e.detail["previous"]] == [
            "not_satisfactory"
        ]
        assert [e.detail["check"] for e in waived] == ["occupational-health"]
        for event in recorded + waived:
            assert event.target.startswith("candidate:V") and event.actor_id == rae_id
            assert "Cara" not in repr(event.detail) and "OH" not in repr(event.detail)
        # no email says anything about the checks
        for notice in db.session.scalars(select(Notification)):
            said = repr((notice.subject, notice.fields, notice.link)).casefold()
            words = ("dbs", "barred", "right to work", "occupational", "waiv", "satisfactory")
            assert not any(w in said for w in words), said


def test_a_waiver_without_a_reason_and_a_future_date_are_refused_keeping_what_was_typed(app):
    vacancy_id, cara_id = _offered(app)
    base = f"/recruitment/{vacancy_id}/candidates/{cara_id}"
    page = f"{base}/conditional-offer"
    rae = _client(app, "rae.recruit")
    ahead = (date.today() + timedelta(days=3)).isoformat()
    response = _post(
        rae,
        page,
        f"{base}/checks/right-to-work",
        {"outcome": "waived", "checked_on": ahead, "waiver_reason": "   "},
    )
    assert response.status_code == 400
    text = html.unescape(response.get_data(as_text=True))
    summary = text[text.index("nhsuk-error-summary") :]
    assert re.findall(r'href="#(right-to-work-[a-z_]+)"', summary)[:2] == [
        "right-to-work-checked_on",
        "right-to-work-waiver_reason",
    ]
    assert "The date of the check must be today or in the past" in text
    assert "Give the reason for waiving the check “Right to work in the UK”" in text
    assert f'value="{ahead}"' in text  # kept
    assert re.search(r'id="right-to-work-outcome-3"[^>]*value="waived"[^>]*checked', text) or (
        'value="waived" checked' in text
    )
    # a date that does not parse, and no outcome
    response = _post(rae, page, f"{base}/checks/references", {"checked_on": "soon"})
    assert response.status_code == 400
    text = html.unescape(response.get_data(as_text=True))
    assert "Choose the outcome of the check “Two satisfactory references”" in text
    assert "as a date, for example 17/03/2027" in text and 'value="soon"' in text
    with app.app_context():
        assert db.session.scalar(select(PreEmploymentCheckRecord)) is None
        assert _actions("pre_employment_check_waived") == []
    # with its reason, the waiver is kept and shown with its UK date
    reason = "Right to work seen by the previous NHS employer; share code checked"
    done = _post(
        rae,
        page,
        f"{base}/checks/right-to-work",
        {"outcome": "waived", "checked_on": date.today().isoformat(), "waiver_reason": reason},
    )
    assert done.status_code == 303
    shown = html.unescape(rae.get(page).get_data(as_text=True))
    assert f"Reason for waiving: {reason}" in shown
    flat = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", shown))
    assert f"Waived Settled on {date.today().day} " in flat
    assert "1 of 4 checks satisfactory or waived" in shown


def test_only_hr_and_the_teams_recruiters_record_checks(app):
    vacancy_id, cara_id = _offered(app)
    base = f"/recruitment/{vacancy_id}/candidates/{cara_id}"
    data = {"outcome": "satisfactory", "checked_on": date.today().isoformat()}
    chair = _client(app, "bob.panel")  # the panel's chair: not a recruiter
    assert chair.get(f"{base}/conditional-offer").status_code == 403
    token_page = f"/recruitment/{vacancy_id}"
    assert _post(chair, token_page, f"{base}/checks/references", data).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(PreEmploymentCheckRecord)) is None
        cara = db.session.get(Candidate, cara_id)
        # an unknown check, and a check once the offer is withdrawn
        rae = user("rae.recruit")
        try:
            checks.record_check(cara, "no-such-check", "satisfactory", today(), "", rae)
        except services.RecruitmentError as error:
            assert error.status == 404
        else:
            raise AssertionError("an unknown check was recorded")
        services.withdraw_offer(cara, rae)
        try:
            checks.record_check(cara, "references", "satisfactory", today(), "", rae)
        except services.RecruitmentError as error:
            assert error.status == 409
        else:
            raise AssertionError("a check was recorded on a withdrawn offer")


def test_the_offer_page_lists_each_check_and_explains_the_disabled_appoint_button(app):
    vacancy_id, cara_id = _offered(app)
    rae = _client(app, "rae.recruit")
    ranking = html.unescape(rae.get(f"/recruitment/{vacancy_id}/ranking").get_data(as_text=True))
    path = f"/recruitment/{vacancy_id}/candidates/{cara_id}/conditional-offer"
    assert path in ranking and "Conditional offer" in ranking
    text = html.unescape(rae.get(path).get_data(as_text=True))
    assert "0 of 4 checks satisfactory or waived" in text
    assert re.search(r"<button[^>]*disabled[^>]*>\s*Appoint V", text)
    assert 'aria-describedby="appoint-waiting"' in text
    for check_id in CHECK_IDS:
        assert f'id="check-{check_id}"' in text
    with app.app_context():
        cara = db.session.get(Candidate, cara_id)
        for check_id in CHECK_IDS:
            checks.record_check(cara, check_id, "satisfactory", today(), "", user("rae.recruit"))
        commit()
    text = html.unescape(rae.get(path).get_data(as_text=True))
    assert "4 of 4 checks satisfactory or waived" in text
    assert f'href="/recruitment/{vacancy_id}/candidates/{cara_id}/appoint"' in text
