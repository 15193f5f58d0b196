"""Recruitment that loses nothing: refused inputs keep what was typed and change nothing,
moderation, the rule from the file, the vacancy's stages, slots, lay panel members, the
assessment task and appointing."""

from __future__ import annotations

import html
import io
import re
from datetime import date, timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from competency_app.accounts import services as accounts
from competency_app.accounts.models import AuditEvent, PasswordLink, Role
from competency_app.assessments.models import Assessment
from competency_app.extensions import db
from competency_app.framework.models import Criterion, Module
from competency_app.framework.schema import InterviewScoring
from competency_app.notifications.models import Notification
from competency_app.recruitment import services, signals
from competency_app.recruitment.models import (
    AgreedScore,
    Candidate,
    InterviewScore,
    InterviewSubmission,
    ShortlistMark,
    ShortlistModeration,
    Vacancy,
)
from competency_app.recruitment.retention import purge_candidates
from competency_app.training.models import TrainingAssignment
from tests.conftest import csrf_from, sign_in
from tests.factories import PASSWORD, clear_checks, commit, make_team, make_user
from tests.training.test_training import hand_months


def user(local):
    return accounts.user_by_email(f"{local}@example.nhs.uk")


@pytest.fixture
def world(app, framework):
    """A north vacancy: Amy and Bob shortlist and interview (Bob chairs), Rae recruits,
    Sue supervises; two candidates."""
    with app.app_context():
        north = make_team("north", "North keyworking team")
        rec = make_user("rae.recruit", Role.RECRUITER, team=north)
        a = make_user("amy.panel", Role.SUPERVISOR, team=north)
        b = make_user("bob.panel", Role.MANAGER, team=north)
        make_user("sue.super", Role.SUPERVISOR, team=north)
        vacancy = services.create_vacancy(
            north, "Keyworker", date.today() + timedelta(days=14), [a, b], [a, b], b, rec
        )
        services.add_candidate(vacancy, "Cara Candidate", "cara@example.com", rec)
        services.add_candidate(vacancy, "Dan Candidate", "", rec)
        commit()
        return {"vacancy": vacancy.id}


def _vacancy() -> Vacancy:
    return db.session.get(Vacancy, db.session.scalar(select(Vacancy.id).order_by(Vacancy.id)))


def _client(app, local):
    client = app.test_client()
    sign_in(client, f"{local}@example.nhs.uk", PASSWORD)
    return client


def _post(client, page, path, data):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token})


def _all_met(vacancy) -> dict:
    return {
        c.key: (True, None) if c.requirement == "essential" else (None, 3)
        for c in services.shortlist_criteria(vacancy)
    }


def _forward(candidate) -> None:
    for local in ("amy.panel", "bob.panel"):
        services.save_shortlist(candidate, user(local), _all_met(candidate.vacancy))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _actions(action) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# ---- refused inputs: kept, named, in page order, nothing changed ----------------------------


def test_an_empty_shortlisting_form_is_refused_and_names_each_criterion(app, world):
    with app.app_context():
        vacancy = _vacancy()
        candidate = vacancy.candidates[0]
        criteria = services.shortlist_criteria(vacancy)
        path = f"/recruitment/{vacancy.id}/candidates/{candidate.id}/shortlist"
    client = _client(app, "amy.panel")
    first = criteria[0]
    response = _post(client, path, path, {f"c-{first.key}": "met"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    with app.app_context():
        names = [f"“{services.short_title(c)}”" for c in criteria[1:]]
        assert _count(ShortlistMark) == 0
        assert services.shortlist_results(_vacancy())[0].status == "Not marked"
    summary = page[
        page.index("nhsuk-error-summary") : page.index("</ul>", page.index("nhsuk-error-summary"))
    ]
    assert re.findall(r'href="#c-([^"]+)"', summary) == [c.key for c in criteria[1:]]
    assert all(html.escape(name, quote=False) in summary for name in names)
    assert "spec.keyworker" not in re.sub(r'[a-z-]+="[^"]*"', "", page)
    # what was typed is kept
    assert re.search(r'value="met"[^>]*checked', page)
    assert page.count("checked") == 1


def test_submitting_scores_with_one_criterion_empty_keeps_every_score(app, world):
    with app.app_context():
        vacancy = _vacancy()
        candidate = vacancy.candidates[0]
        criteria = services.interview_criteria(vacancy)
        path = f"/recruitment/{vacancy.id}/candidates/{candidate.id}/interview"
        missing = criteria[5]
        missing_name = services.short_title(missing)
    data = {f"s-{c.key}": str(2 + i % 4) for i, c in enumerate(criteria) if c != missing}
    data[f"n-{criteria[0].key}"] = "Typed note kept"
    data["action"] = "submit"
    response = _post(_client(app, "amy.panel"), path, path, data)
    assert response.status_code == 400  # never a 409: nobody else changed anything
    page = response.get_data(as_text=True)
    assert html.escape(f"Score “{missing_name}” before you submit", quote=False) in page
    assert "Typed note kept" in page
    assert page.count(" checked") == len(criteria) - 1
    with app.app_context():
        assert _count(InterviewScore) == 0 and _count(InterviewSubmission) == 0
    # saving the same as a draft keeps it without submitting
    data["action"] = "save"
    assert _post(_client(app, "amy.panel"), path, path, data).status_code == 303
    with app.app_context():
        assert _count(InterviewScore) == len(criteria) - 1
        assert _count(InterviewSubmission) == 0


def test_a_score_off_the_scale_is_refused_by_name(app, world):
    with app.app_context():
        vacancy = _vacancy()
        candidate = vacancy.candidates[0]
        criteria = services.interview_criteria(vacancy)
        path = f"/recruitment/{vacancy.id}/candidates/{candidate.id}/interview"
        name = services.short_title(criteria[0])
    data = {f"s-{c.key}": "3" for c in criteria}
    data[f"s-{criteria[0].key}"] = "9"
    data["action"] = "submit"
    response = _post(_client(app, "amy.panel"), path, path, data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert html.escape(f"Choose a score from the scale for “{name}”", quote=False) in page
    with app.app_context():
        assert _count(InterviewScore) == 0


def test_agreed_scores_are_complete_or_a_draft_the_ranking_shows_as_not_agreed(app, world):
    with app.app_context():
        vacancy = _vacancy()
        candidate = vacancy.candidates[0]
        _forward(candidate)
        keys = [c.key for c in services.interview_criteria(vacancy)]
        for local in ("amy.panel", "bob.panel"):
            services.save_scores(candidate, user(local), {k: (4, "") for k in keys}, True)
        commit()
        base = f"/recruitment/{vacancy.id}/candidates/{candidate.id}"
    chair = _client(app, "bob.panel")
    one = {f"a-{keys[0]}": "4", "action": "agree"}
    response = _post(chair, f"{base}/interview", f"{base}/agree", one)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert page.count("before you agree them") == 2 * (len(keys) - 1)  # summary and field
    with app.app_context():
        assert _count(AgreedScore) == 0
    one["action"] = "draft"
    assert _post(chair, f"{base}/interview", f"{base}/agree", one).status_code == 303
    with app.app_context():
        assert _count(AgreedScore) == 1
        ranked = services.ranking(_vacancy())
        assert not ranked[0].agreed and not ranked[0].verdict.appointable
    ranking = chair.get(f"/recruitment/{world['vacancy']}/ranking").get_data(as_text=True)
    assert "Not agreed yet" in ranking and "Appointable<" not in ranking
    every = {f"a-{k}": "4" for k in keys} | {"action": "agree"}
    assert _post(chair, f"{base}/interview", f"{base}/agree", every).status_code == 303
    with app.app_context():
        assert services.ranking(_vacancy())[0].verdict.appointable


def test_create_vacancy_lists_every_problem_in_page_order(app, world):
    client = _client(app, "rae.recruit")
    token = csrf_from(client.get("/recruitment/new").get_data(as_text=True))
    response = client.post(
        "/recruitment/new",
        data={"csrf_token": token, "title": "", "closing_date": "tomorrow"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    found = re.findall(r'href="#(team|title|closing_date|shortlisters|interviewers|chair)"', page)
    assert found == ["team", "title", "closing_date", "shortlisters", "interviewers", "chair"]
    assert 'value="tomorrow"' in page
    with app.app_context():
        assert _count(Vacancy) == 1


def test_an_interview_slot_keeps_what_was_typed_and_shows_to_the_panel(app, world):
    with app.app_context():
        vacancy = _vacancy()
        candidate = vacancy.candidates[0]
        path = f"/recruitment/{vacancy.id}/candidates/{candidate.id}/slot"
    rae = _client(app, "rae.recruit")
    bad = _post(rae, path, path, {"slot_date": "next week", "slot_time": "25:00", "place": ""})
    assert bad.status_code == 400
    page = bad.get_data(as_text=True)
    assert re.findall(r'href="#(slot_date|slot_time|place)"', page) == [
        "slot_date",
        "slot_time",
        "place",
    ]
    assert 'value="next week"' in page
    day = (date.today() + timedelta(days=20)).isoformat()
    good = {"slot_date": day, "slot_time": "14:30", "place": "https://video.example/room-1"}
    assert _post(rae, path, path, good).status_code == 303
    with app.app_context():
        assert len(_actions("interview_slot_set")) == 1
        assert (
            "2:30pm"
            in db.session.get(Candidate, candidate.id)
            .slot.starts_at.astimezone(
                __import__("competency_app.common.dates", fromlist=["LONDON"]).LONDON
            )
            .strftime("%-I:%M%p")
            .lower()
        )
    page = _client(app, "amy.panel").get(f"/recruitment/{world['vacancy']}").get_data(as_text=True)
    assert "2:30pm" in page and "video link" in page


# ---- readable criteria and moderation ---------------------------------------------------------


def test_disagreements_are_readable_and_the_chair_moderates_with_a_reason(app, world):
    with app.app_context():
        vacancy = _vacancy()
        candidate = vacancy.candidates[0]
        criteria = services.shortlist_criteria(vacancy)
        essential = next(c for c in criteria if c.requirement == "essential")
        services.save_shortlist(candidate, user("amy.panel"), _all_met(vacancy))
        services.save_shortlist(
            candidate,
            user("bob.panel"),
            {**_all_met(vacancy), essential.key: (False, None)},
        )
        commit()
        title = services.short_title(essential)
        vacancy_id, candidate_id = vacancy.id, candidate.id
    page = _client(app, "rae.recruit").get(f"/recruitment/{vacancy_id}").get_data(as_text=True)
    assert "Shortlisters disagree" in page and html.escape(title, quote=False) in page
    assert essential.key not in re.sub(r'[a-z-]+="[^"]*"', "", page)
    path = f"/recruitment/{vacancy_id}/candidates/{candidate_id}/moderate"
    # a shortlister who is not the chair cannot moderate
    assert _client(app, "amy.panel").get(path).status_code == 403
    chair = _client(app, "bob.panel")
    refused = _post(chair, path, path, {f"m-{essential.key}": "met"})
    assert refused.status_code == 400
    assert "Give the reason" in refused.get_data(as_text=True)
    with app.app_context():
        assert _count(ShortlistModeration) == 0
    reason = {f"m-{essential.key}": "met", f"r-{essential.key}": "Clear in the statement"}
    assert _post(chair, path, path, reason).status_code == 303
    with app.app_context():
        result = services.shortlist_results(_vacancy())[0]
        assert result.goes_forward and not result.disputed
        assert [c.key for c, _m in result.moderated] == [essential.key]
        assert len(_actions("shortlist_moderated")) == 1
    # the HR workbook keeps the decision and its reason, by the criterion's words
    workbook = _client(app, "rae.recruit").get(f"/recruitment/{vacancy_id}/workbook.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.data), read_only=True)["Moderation"]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[1][:5] == ["V1-C001", title, "essential", "Met", "Clear in the statement"]
    # moderated "not met" turns the candidate down, following the decision
    with app.app_context():
        row = db.session.scalar(select(ShortlistModeration))
        row.met = False
        commit()
        assert services.shortlist_results(_vacancy())[0].status == "Not shortlisted"


def test_ranking_reasons_and_workbook_use_the_criteria_words(app, world):
    with app.app_context():
        vacancy = _vacancy()
        candidate = vacancy.candidates[0]
        _forward(candidate)
        criteria = services.interview_criteria(vacancy)
        keys = [c.key for c in criteria]
        essential = next(c for c in criteria if c.requirement == "essential")
        for local in ("amy.panel", "bob.panel"):
            services.save_scores(candidate, user(local), {k: (3, "") for k in keys}, True)
        services.save_agreed(
            candidate, user("bob.panel"), {k: 3 for k in keys} | {essential.key: 2}
        )
        commit()
        title = services.short_title(essential)
    page = _client(app, "rae.recruit").get(f"/recruitment/{world['vacancy']}/ranking")
    text = page.get_data(as_text=True)
    assert html.escape(f"{title}: essential criterion scored 2 (needs 3)", quote=False) in text
    assert "spec.keyworker" not in text


# ---- the rule and the threshold from the file ---------------------------------------------------


def _scoring(values, **extra) -> InterviewScoring:
    return InterviewScoring.model_validate(
        {
            "levels": [{"value": v, "label": f"L{v}", "descriptor": "d"} for v in values],
            "appointable_rule": {
                "min_agreed_score_essential": values[1],
                "description": "rule",
            },
            **extra,
        }
    )


def test_the_gap_fit_threshold_comes_from_the_file_and_scales():
    assert _scoring([1, 2, 3, 4, 5]).gap_fit_threshold == 4
    assert _scoring([0, 1, 2, 3]).gap_fit_threshold == 2
    assert _scoring(list(range(0, 11))).gap_fit_threshold == 8
    assert _scoring([1, 2, 3, 4, 5], gap_fit_min_score=5).gap_fit_threshold == 5
    with pytest.raises(ValueError, match="not on the scale"):
        _scoring([1, 2, 3], gap_fit_min_score=4)
    rule = _scoring([1, 2, 3]).appointable_rule
    assert rule.forbidden_applies_to == "essential"  # right by default


def test_the_framework_file_states_the_default_rule(app, framework):
    with app.app_context():
        version = __import__(
            "competency_app.framework.services", fromlist=["current_version"]
        ).current_version()
        interview = version.settings.interview
        rule = interview.appointable_rule
        assert (rule.min_agreed_score_essential, rule.forbidden_scores) == (3, [1])
        assert rule.forbidden_applies_to == "essential"
        assert interview.gap_fit_min_score == 4


# ---- the vacancy's stages, offers and appointing ---------------------------------------------


def test_stages_move_by_the_right_role_and_each_move_is_audited(app, world):
    with app.app_context():
        vacancy = _vacancy()
        cara, dan = vacancy.candidates
        rae, amy, bob = user("rae.recruit"), user("amy.panel"), user("bob.panel")
        with pytest.raises(services.RecruitmentError) as refused:
            services.move_vacancy(vacancy, "interviewing", rae)  # not from open
        assert refused.value.status == 409
        _forward(cara)  # the first mark moves the vacancy to shortlisting
        assert vacancy.state == "shortlisting"
        with pytest.raises(services.RecruitmentError) as refused:
            services.move_vacancy(vacancy, "interviewing", amy)
        assert refused.value.status == 403
        asked = []
        with signals.panel_asked_to_score.connected_to(lambda _sender, **kw: asked.append(kw)):
            services.move_vacancy(vacancy, "interviewing", rae)
        assert asked and set(asked[0]["user_ids"]) == {amy.id, bob.id}
        with pytest.raises(services.RecruitmentError, match="not agreed yet"):
            services.move_vacancy(vacancy, "decided", bob)
        keys = [c.key for c in services.interview_criteria(vacancy)]
        ready = []
        with signals.ready_for_agreed_scores.connected_to(lambda _sender, **kw: ready.append(kw)):
            for person in (amy, bob):
                services.save_scores(cara, person, {k: (4, "") for k in keys}, True)
        assert ready == [{"vacancy_id": vacancy.id, "candidate_id": cara.id, "chair_ids": [bob.id]}]
        services.save_agreed(cara, bob, {k: 4 for k in keys})
        services.move_vacancy(vacancy, "decided", bob)  # the chair decides
        with pytest.raises(services.RecruitmentError):
            services.make_offer(dan, rae)  # did not go forward
        services.make_offer(cara, rae)
        services.withdraw_offer(cara, rae)
        assert vacancy.state == "withdrawn" and cara.offer == "withdrawn"
        with pytest.raises(services.RecruitmentError):
            services.make_offer(cara, rae)  # one offer per candidate
        services.move_vacancy(vacancy, "closed", rae)
        moves = [(e.detail["old"], e.detail["new"]) for e in _actions("vacancy_state_changed")]
        assert moves == [
            ("open", "shortlisting"),
            ("shortlisting", "interviewing"),
            ("interviewing", "decided"),
            ("decided", "offer_made"),
            ("offer_made", "withdrawn"),
            ("withdrawn", "closed"),
        ]
        # nothing changes on a closed vacancy
        with pytest.raises(services.RecruitmentError):
            services.add_candidate(vacancy, "Late Candidate", "", rae)
        with pytest.raises(services.RecruitmentError):
            services.move_vacancy(vacancy, "open", rae)


def _to_offer(vacancy):
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
    clear_checks(cara, rae)
    return cara


def test_appointing_creates_the_staff_record_assessment_and_priority_training(app, world):
    with app.app_context():
        vacancy = _vacancy()
        cara = _to_offer(vacancy)
        commit()
        vacancy_id, cara_id = vacancy.id, cara.id
        expected_modules = services.priority_modules_for_appointment(vacancy)
        # an empty team lacks everything: the modules for the criteria's elements
        linked = {k for c in db.session.scalars(select(Criterion)) for k in c.links}
        assert expected_modules and all(
            linked & set(db.session.scalar(select(Module).where(Module.key == key)).element_keys)
            for key in expected_modules
        )
        sue_id = user("sue.super").id
    path = f"/recruitment/{vacancy_id}/candidates/{cara_id}/appoint"
    rae = _client(app, "rae.recruit")
    page = rae.get(path).get_data(as_text=True)
    # the work email is asked for empty, never pre-filled with the personal address
    work_email = re.search(r'<input[^>]*name="email"[^>]*>', page).group(0)
    assert "cara@example.com" not in work_email and 'value="' not in work_email.replace(
        'value=""', ""
    )
    refused = _post(rae, path, path, {"email": "cara.new@nhs.net", "start_date": "soon"})
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert re.findall(r'href="#(email|start_date|supervisor)"', text) == [
        "start_date",
        "supervisor",
    ]
    assert 'value="cara.new@nhs.net"' in text
    with app.app_context():
        assert accounts.user_by_email("cara.new@nhs.net") is None
    start = (date.today() + timedelta(days=30)).isoformat()
    done = _post(
        rae, path, path, {"email": "cara.new@nhs.net", "start_date": start, "supervisor": sue_id}
    )
    assert done.status_code == 200
    text = done.get_data(as_text=True)
    assert "/set-password/" in text and "Priority training" in text
    with app.app_context():
        person = accounts.user_by_email("cara.new@nhs.net")
        assert person.name == "Cara Candidate" and person.role_set == {Role.PRACTITIONER}
        assert person.roles[0].team.slug == "north"
        assert accounts.supervisor_of(person).id == sue_id
        assert person.password_hash == accounts.NO_PASSWORD
        assert db.session.scalar(select(PasswordLink).where(PasswordLink.user_id == person.id))
        # the new starter is emailed their set-your-password link (the link itself is never
        # kept in the outbox)
        notices = db.session.scalars(select(Notification).where(Notification.user_id == person.id))
        [notice] = [n for n in notices if n.kind == "password_link"]
        assert "/set-password/" not in repr((notice.subject, notice.link, notice.fields))
        draft = db.session.scalar(select(Assessment).where(Assessment.person_id == person.id))
        assert draft is not None and draft.status.editable
        candidate = db.session.get(Candidate, cara_id)
        assert candidate.offer == "appointed" and candidate.staff_user_id == person.id
        assert candidate.vacancy.state == "appointed"
        event = _actions("candidate_appointed")[0]
        assert event.detail["priority_modules"] == len(expected_modules)
        assert "Cara" not in f"{event.target} {event.detail}"
        first = db.session.scalar(select(Module).where(Module.key == expected_modules[0]))
        assert html.escape(first.title, quote=False) in text
        # the priority modules are assigned to the new starter by the recruiter, due three
        # calendar months after the start date, each naming the team gap it closes
        due = hand_months(date.fromisoformat(start), 3)
        assigned = list(
            db.session.scalars(
                select(TrainingAssignment).where(TrainingAssignment.person_id == person.id)
            )
        )
        assert sorted(a.module_key for a in assigned) == sorted(expected_modules)
        rae_id = user("rae.recruit").id
        for assignment in assigned:
            assert assignment.assigned_by_id == rae_id
            assert assignment.due_on == due
            module = db.session.scalar(select(Module).where(Module.key == assignment.module_key))
            assert assignment.element_key in linked & set(module.element_keys)
        assert f"due {due.day} " in text  # the appointed page says when, in UK form
        events = _actions("module_assigned")
        assert len(events) == len(expected_modules)
        assert {e.actor_id for e in events} == {rae_id}
        # the new starter sees them once they have set their password
        person.password_hash = accounts.hash_password(PASSWORD)
        commit()
        person_id = person.id
    starter = app.test_client()
    sign_in(starter, "cara.new@nhs.net", PASSWORD)
    home = starter.get("/").get_data(as_text=True)
    plan = starter.get(f"/people/{person_id}/development").get_data(as_text=True)
    home_text, plan_text = html.unescape(home), html.unescape(plan)
    for key in expected_modules:
        with app.app_context():
            title = db.session.scalar(select(Module.title).where(Module.key == key))
        assert title in plan_text
        assert f"Assigned to you: {title}, due by {due.day} " in home_text
    # retention still purges the candidate record; the staff record stays
    with app.app_context():
        db.session.get(Vacancy, vacancy_id).closing_date = date.today() - timedelta(days=800)
        commit()
        purge_candidates(12)
        commit()
        assert _count(Candidate) == 0 and accounts.user_by_email("cara.new@nhs.net")


# ---- lay and expert-by-experience panel members -------------------------------------------------


def test_a_lay_panel_member_is_invited_scores_their_vacancy_only_and_loses_access(app, world):
    with app.app_context():
        vacancy = _vacancy()
        cara, dan = vacancy.candidates
        _forward(cara)
        commit()
        vacancy_id, cara_id, dan_id = vacancy.id, cara.id, dan.id
        other = services.create_vacancy(
            vacancy.team,
            "Senior keyworker",
            date.today() + timedelta(days=9),
            [user("amy.panel"), user("bob.panel")],
            [user("amy.panel"), user("bob.panel")],
            user("bob.panel"),
            user("rae.recruit"),
        )
        commit()
        other_id = other.id
    rae = _client(app, "rae.recruit")
    page = f"/recruitment/{vacancy_id}"
    bad = _post(rae, page, f"{page}/panel", {"invite_name": "Pat Parent", "invite_email": "pat"})
    assert bad.status_code == 400 and 'value="Pat Parent"' in bad.get_data(as_text=True)
    staff = _post(
        rae,
        page,
        f"{page}/panel",
        {"invite_name": "Sue", "invite_email": "sue.super@example.nhs.uk"},
    )
    assert staff.status_code == 400 and "member of staff" in staff.get_data(as_text=True)
    with app.app_context():  # the refused invitations changed nothing
        assert accounts.user_by_email("pat@example.org") is None
        assert not _actions("panel_member_invited")
        assert len(_vacancy().panel) == 5  # two shortlisters, two interviewers, the chair
    invited = []
    with signals.panel_member_invited.connected_to(lambda _s, **kw: invited.append(kw)):
        response = _post(
            rae,
            page,
            f"{page}/panel",
            {"invite_name": "Pat Parent", "invite_email": "pat@example.org"},
        )
    assert response.status_code == 200
    # inviting again before they chose a password sends a fresh link (the first stops working)
    first = re.search(r"/set-password/([A-Za-z0-9_-]+)", response.get_data(as_text=True)).group(1)
    assert "Pat Parent is invited</h2>" in response.get_data(as_text=True)
    response = _post(
        rae, page, f"{page}/panel", {"invite_name": "Pat Parent", "invite_email": "pat@example.org"}
    )
    token = re.search(r"/set-password/([A-Za-z0-9_-]+)", response.get_data(as_text=True)).group(1)
    assert token != first and app.test_client().get(f"/set-password/{first}").status_code == 404
    assert invited and invited[0]["link"].endswith(first)
    with app.app_context():
        pat = accounts.user_by_email("pat@example.org")
        assert pat.role_set == {Role.PANEL_MEMBER} and pat.password_hash == accounts.NO_PASSWORD
        event = _actions("panel_member_invited")[0]
        assert "pat@example.org" not in f"{event.target} {event.detail}"
    # the invitation sets a password once
    lay = app.test_client()
    form = csrf_from(lay.get(f"/set-password/{token}").get_data(as_text=True))
    chosen = "a lay member's passphrase 2026"
    done = lay.post(
        f"/set-password/{token}",
        data={"csrf_token": form, "new_password": chosen, "confirm_password": chosen},
    )
    assert done.status_code == 303
    assert lay.get(f"/set-password/{token}").status_code == 404  # single use
    # signed in by setting the password: no second sign-in
    assert done.headers["Location"] == "/"
    assert lay.get("/recruitment").status_code == 200
    vacancy_page = lay.get(page).get_data(as_text=True)
    assert "Cara Candidate" in vacancy_page and "Dan Candidate" not in vacancy_page
    assert lay.get(f"{page}/ranking").status_code == 403
    assert lay.get(f"/recruitment/{other_id}").status_code == 403
    assert lay.get(f"{page}/candidates/{dan_id}/interview").status_code == 403
    assert lay.get(f"{page}/candidates/{cara_id}/shortlist").status_code == 403
    interview = f"{page}/candidates/{cara_id}/interview"
    with app.app_context():
        keys = [c.key for c in services.interview_criteria(_vacancy())]
        services.save_scores(
            db.session.get(Candidate, cara_id),
            user("amy.panel"),
            {k: (5, "AMY-NOTE") for k in keys},
            True,
        )
        commit()
    before = lay.get(interview).get_data(as_text=True)
    assert "AMY-NOTE" not in before and "Amy Panel" not in before
    data = {f"s-{k}": "3" for k in keys} | {"action": "submit"}
    assert _post(lay, interview, interview, data).status_code == 303
    assert "AMY-NOTE" in lay.get(interview).get_data(as_text=True)
    with app.app_context():
        services.move_vacancy(_vacancy(), "closed", user("rae.recruit"))
        commit()
    assert lay.get(page).status_code == 403
    assert lay.get(interview).status_code == 403
    assert "Keyworker" not in lay.get("/recruitment").get_data(as_text=True)


# ---- the assessment task ----------------------------------------------------------------------


def test_the_assessment_task_feeds_the_ranking(app, world):
    with app.app_context():
        vacancy = _vacancy()
        cara = vacancy.candidates[0]
        _forward(cara)
        keys = [c.key for c in services.interview_criteria(vacancy)]
        for local in ("amy.panel", "bob.panel"):
            services.save_scores(cara, user(local), {k: (4, "") for k in keys}, True)
        services.save_agreed(cara, user("bob.panel"), {k: 4 for k in keys})
        commit()
        tasked = services.assessment_criteria(vacancy)
        essential = next(c for c in tasked if c.requirement == "essential")
        path = f"/recruitment/{vacancy.id}/candidates/{cara.id}/assessment"
    chair = _client(app, "bob.panel")
    assert _client(app, "amy.panel").get(path).status_code == 403
    partial = _post(chair, path, path, {f"t-{tasked[0].key}": "4"})
    assert partial.status_code == 400
    assert partial.get_data(as_text=True).count("before you save the assessment") == 2 * (
        len(tasked) - 1
    )
    data = {f"t-{c.key}": "4" for c in tasked} | {f"t-{essential.key}": "2"}
    assert _post(chair, path, path, data).status_code == 303
    with app.app_context():
        ranked = services.ranking(_vacancy())[0]
        assert ranked.task_total == 4 * (len(tasked) - 1) + 2
        assert ranked.total == 4 * len(keys) + ranked.task_total
        assert not ranked.verdict.appointable
        assert "assessment task scored 2 (needs 3)" in str(ranked.verdict.reasons[0])
        assert len(_actions("assessment_task_scored")) == 1


def test_a_desirable_disagreement_does_not_hold_a_candidate_back(app, world):
    with app.app_context():
        vacancy = _vacancy()
        candidate = vacancy.candidates[0]
        desirable = next(
            c for c in services.shortlist_criteria(vacancy) if c.requirement == "desirable"
        )
        services.save_shortlist(candidate, user("amy.panel"), _all_met(vacancy))
        services.save_shortlist(
            candidate, user("bob.panel"), {**_all_met(vacancy), desirable.key: (None, 5)}
        )
        result = services.shortlist_results(vacancy)[0]
        assert result.goes_forward and [c.key for c in result.disputed] == [desirable.key]
        # the chair may still settle it; the moderated score then counts
        services.moderate(candidate, {desirable.key: (None, 4, "Degree seen")}, user("bob.panel"))
        after = services.shortlist_results(vacancy)[0]
        assert after.goes_forward and not after.disputed
        assert after.desirable_total - result.desirable_total == 4 - 4  # round((3 + 5) / 2)
