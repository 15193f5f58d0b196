"""Every action in the audit catalogue is performed once through the app, found in the log
and found again through the administrators' filter.

One row per action in PERFORM: adding an action to the catalogue without a row here fails
`test_every_catalogued_action_has_a_row`.
"""

from __future__ import annotations

import html
import re
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from competency_app.accounts import password_links
from competency_app.accounts import services as accounts
from competency_app.accounts.audit import AUDIT_LABELS, AuditAction
from competency_app.accounts.models import AuditEvent, Role, SsoIdentity, User
from competency_app.assessments import services as assessments
from competency_app.assessments.models import Assessment
from competency_app.clock import utcnow
from competency_app.database import unit_of_work
from competency_app.extensions import db
from competency_app.framework.services import current_version
from competency_app.notifications.catalogue import KINDS
from competency_app.notifications.services import notify
from competency_app.recruitment import services as recruitment
from competency_app.recruitment.models import Candidate, Vacancy
from competency_app.supervision import services as supervision
from competency_app.training import models as training_models
from tests.conftest import csrf_from, post_form, sign_in
from tests.factories import PASSWORD, clear_checks, commit, make_team, make_user
from tests.sso.local_provider import app_settings

AGREED_ACTIONS = [
    "sign_in",
    "sign_in_failed",
    "sso_sign_in_failed",
    "sso_link_removed",
    "sign_out",
    "password_changed",
    "password_reset",
    "password_link_issued",
    "password_set_by_link",
    "user_created",
    "user_updated",
    "user_disabled",
    "user_enabled",
    "roles_changed",
    "team_changed",
    "supervisor_changed",
    "leaving_date_changed",
    "start_date_changed",
    "team_created",
    "staff_imported",
    "completions_imported",
    "module_completed",
    "module_assigned",
    "module_assignment_cancelled",
    "export",
    "assessment_submitted",
    "assessment_validated",
    "assessment_returned",
    "supervision_scheduled",
    "supervision_rescheduled",
    "supervision_cancelled",
    "supervision_actions_recorded",
    "values_reviewed",
    "vacancy_created",
    "candidate_added",
    "candidates_imported",
    "shortlist_marked",
    "interview_scores_submitted",
    "scores_agreed",
    "candidates_purged",
    "framework_loaded",
    "api_token_created",
    "api_token_revoked",
    "api_token_refused",
    "vacancy_state_changed",
    "shortlist_moderated",
    "interview_slot_set",
    "panel_member_invited",
    "assessment_task_scored",
    "candidate_appointed",
    "pre_employment_check_recorded",
    "pre_employment_check_waived",
    "password_links_downloaded",
    "personal_data_requested",
    "personal_data_downloaded",
    "personal_data_erased",
    "candidate_data_requested",
    "candidate_data_downloaded",
    "collaborative_created",
    "organisation_created",
    "organisation_changed",
    "first_admin_created",
    "installation_admin_granted",
    "local_course_added",
    "personal_data_expired",
    "erasure_requested",
]
CANDIDATE_NAME = "Cara Candidate"
CANDIDATE_EMAIL = "cara@example.com"


@pytest.fixture
def world(app, framework):
    with app.app_context():
        north = make_team("north")
        sue = make_user("sue.super", Role.SUPERVISOR, team=north)
        pat = make_user("pat.prac", Role.PRACTITIONER, team=north, supervisor=sue)
        max_ = make_user("max.manager", Role.MANAGER, team=north)
        rae = make_user("rae.recruit", Role.RECRUITER, team=north)
        make_user("hana.hr", Role.HR)
        make_user("ada.admin", Role.ADMIN)
        # reads the installation's own log (events of no organisation: a framework loaded)
        make_user("ian.install", Role.INSTALLATION_ADMIN)
        vacancy = recruitment.create_vacancy(
            north,
            "Keyworker",
            date.today() + timedelta(days=30),
            [sue, max_],
            [sue, max_],
            max_,
            rae,
        )
        candidate = recruitment.add_candidate(vacancy, CANDIDATE_NAME, CANDIDATE_EMAIL, rae)
        commit()
        return {
            "team_id": north.id,
            "pat": pat.id,
            "sue": sue.id,
            "vacancy": vacancy.id,
            "candidate": candidate.id,
        }


def client_of(app, local: str):
    client = app.test_client()
    response = sign_in(client, f"{local}@example.nhs.uk", PASSWORD)
    assert response.status_code in (302, 303), local
    return client


def post_from(client, page: str, path: str, data: dict, **kwargs):
    """POST `data` to `path` with the CSRF token (and row_version, if any) of `page`."""
    page_html = client.get(page).get_data(as_text=True)
    fields = dict(re.findall(r'name="(csrf_token|row_version)" value="([^"]*)"', page_html))
    return client.post(path, data={**fields, **data}, **kwargs)


def rated(app, pat_id: int, submit: bool) -> int:
    with app.app_context():
        pat = db.session.get(User, pat_id)
        assessment = assessments.start_assessment(pat)
        for element in assessments.elements_of(assessment.framework_version):
            ratings = {s.id: (2, "") for s in element.skills}
            assessments.save_element(assessment, pat, element, ratings, None)
        texts = {v.id: "reflection" for v in assessment.framework_version.values}
        assessments.save_reflections(assessment, pat, texts, None)
        if submit:
            assessments.submit(assessment, pat, None)
        commit()
        return assessment.id


def import_csv(app, kind: str, text: str):
    hr = client_of(app, "hana.hr")
    token = csrf_from(hr.get("/admin/imports").get_data(as_text=True))
    preview = hr.post(
        "/admin/imports/preview",
        data={"csrf_token": token, "kind": kind, "file": (_bytes(text), f"{kind}.csv")},
        content_type="multipart/form-data",
    )
    assert preview.status_code == 200, preview.get_data(as_text=True)[:2000]
    preview_html = preview.get_data(as_text=True)
    pending = re.search(r'name="token" value="([^"]+)"', preview_html).group(1)
    response = hr.post(
        "/admin/imports/apply", data={"csrf_token": csrf_from(preview_html), "token": pending}
    )
    assert response.status_code == 200
    return hr, response


def _bytes(text: str):
    import io

    return io.BytesIO(text.encode())


def admin_person_form(world, **changes) -> dict:
    form = {
        "roles": ["practitioner"],
        "team": str(world["team_id"]),
        "supervisor": str(world["sue"]),
        "active": "y",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def interview_form(app, world) -> dict:
    with app.app_context():
        vacancy = db.session.get(Vacancy, world["vacancy"])
        top = recruitment.scoring_of(vacancy).scale.top
        keys = [c.key for c in recruitment.interview_criteria(vacancy)]
    return {**{f"s-{key}": str(top) for key in keys}, "action": "submit"}


def submit_scores_as(app, world, local: str) -> None:
    with app.app_context():
        candidate = db.session.get(Candidate, world["candidate"])
        person = accounts.user_by_email(f"{local}@example.nhs.uk")
        top = recruitment.scoring_of(candidate.vacancy).scale.top
        scores = {c.key: (top, "") for c in recruitment.interview_criteria(candidate.vacancy)}
        recruitment.save_scores(candidate, person, scores, submit=True)
        commit()


# ---- one way to perform each action -------------------------------------------------------


def do_sign_in(app, world, runner, tmp_path):
    client_of(app, "pat.prac")


def do_sign_in_failed(app, world, runner, tmp_path):
    assert (
        sign_in(app.test_client(), "pat.prac@example.nhs.uk", "wrong password!").status_code == 200
    )


def do_sso_sign_in_failed(app, world, runner, tmp_path):
    # the organisation's provider is down (nothing listens on port 9): a refusal page
    provider = {
        "OIDC_ISSUER": "http://127.0.0.1:9",
        "OIDC_CLIENT_ID": "competency-app",
        "OIDC_CLIENT_SECRET": "a-client-secret",
    }
    with app_settings(app, provider):
        assert app.test_client().get("/login/sso").status_code == 503


def do_sso_link_removed(app, world, runner, tmp_path):
    with app.app_context():
        db.session.add(SsoIdentity(user_id=world["pat"], issuer="https://idp.test", subject="p"))
        commit()
    path = f"/admin/people/{world['pat']}/sign-in-link"
    assert post_form(client_of(app, "ada.admin"), path, {}).status_code == 303


def do_sign_out(app, world, runner, tmp_path):
    client = client_of(app, "pat.prac")
    assert post_from(client, "/", "/logout", {}).status_code == 303


def do_password_changed(app, world, runner, tmp_path):
    client = client_of(app, "pat.prac")
    new = "a brand new passphrase"
    data = {"current_password": PASSWORD, "new_password": new, "confirm_password": new}
    assert post_form(client, "/account/password", data).status_code == 303


def do_password_reset(app, world, runner, tmp_path):
    path = f"/admin/people/{world['pat']}/reset-password"
    assert post_form(client_of(app, "ada.admin"), path, {}).status_code == 200


def do_user_created(app, world, runner, tmp_path):
    data = {
        "name": "New Person",
        "email": "new.person@example.nhs.uk",
        "roles": "practitioner",
        "team": str(world["team_id"]),
    }
    assert post_form(client_of(app, "ada.admin"), "/admin/people/new", data).status_code == 200


def _admin_saves_pat(app, world, **changes):
    path = f"/admin/people/{world['pat']}"
    response = post_form(client_of(app, "ada.admin"), path, admin_person_form(world, **changes))
    assert response.status_code == 303, response.get_data(as_text=True)[:1500]


def do_user_disabled(app, world, runner, tmp_path):
    _admin_saves_pat(app, world, active=None)


def do_user_enabled(app, world, runner, tmp_path):
    with app.app_context():
        pat = db.session.get(User, world["pat"])
        accounts.set_active(pat, False, accounts.user_by_email("ada.admin@example.nhs.uk"))
        commit()
    _admin_saves_pat(app, world, active="y")


def do_roles_changed(app, world, runner, tmp_path):
    _admin_saves_pat(app, world, roles=["practitioner", "recruiter"])


def do_supervisor_changed(app, world, runner, tmp_path):
    _admin_saves_pat(app, world, supervisor="")


def do_team_created(app, world, runner, tmp_path):
    data = {"slug": "south", "name": "South team"}
    assert post_form(client_of(app, "ada.admin"), "/admin/teams", data).status_code == 303


def _installer(app):
    with app.app_context():
        if accounts.user_by_email("ian.install@example.nhs.uk") is None:
            make_user("ian.install", Role.INSTALLATION_ADMIN)
            commit()
    return client_of(app, "ian.install")


def do_collaborative_created(app, world, runner, tmp_path):
    data = {"slug": "north-region", "name": "North region"}
    path = "/installation/collaboratives/new"
    assert post_form(_installer(app), path, data).status_code == 303


def do_organisation_created(app, world, runner, tmp_path):
    data = {"slug": "north-trust", "name": "North Trust", "domains": "north.nhs.uk"}
    path = "/installation/collaboratives/keyworking-collaborative/organisations/new"
    assert post_form(_installer(app), path, data).status_code == 303


def do_organisation_changed(app, world, runner, tmp_path):
    data = {"name": "Keyworking service", "domains": "example.nhs.uk"}
    path = "/installation/organisations/keyworking-service"
    assert post_form(_installer(app), path, data).status_code == 303


def do_first_admin_created(app, world, runner, tmp_path):
    data = {"name": "Nora North", "email": "nora.north@example.nhs.uk"}
    path = "/installation/organisations/keyworking-service/first-administrator"
    assert post_form(_installer(app), path, data).status_code == 200


def do_installation_admin_granted(app, world, runner, tmp_path):
    result = runner.invoke(args=["grant-installation-admin", "ada.admin@example.nhs.uk"])
    assert result.exit_code == 0, result.output


def do_staff_imported(app, world, runner, tmp_path):
    import_csv(
        app,
        "roster",
        "name,email,role,team,supervisor\n"
        "Pat Prac,pat.prac@example.nhs.uk,practitioner,north,sue.super@example.nhs.uk\n",
    )


def do_password_link_issued(app, world, runner, tmp_path):
    import_csv(
        app,
        "roster",
        "name,email,role,team,supervisor\n"
        "Nia New,nia.new@example.nhs.uk,practitioner,north,sue.super@example.nhs.uk\n",
    )


def _copy_of_pats_data(app, world, tmp_path):
    """HR asks for a copy of Pat's data (a job, run in-process): its page's address."""
    app.config["JOBS_DIR"] = str(tmp_path / "jobs")
    hr = client_of(app, "hana.hr")
    path = f"/people/{world['pat']}/data"
    response = post_from(hr, path, path, {})
    assert response.status_code == 303
    return hr, response.headers["Location"]


def do_personal_data_requested(app, world, runner, tmp_path):
    _copy_of_pats_data(app, world, tmp_path)
    app.config["JOBS_DIR"] = ""


def do_personal_data_downloaded(app, world, runner, tmp_path):
    hr, job_page = _copy_of_pats_data(app, world, tmp_path)
    assert hr.get(f"{job_page}/download").status_code == 200
    app.config["JOBS_DIR"] = ""


def do_personal_data_erased(app, world, runner, tmp_path):
    with app.app_context():
        accounts.set_active(db.session.get_one(User, world["pat"]), False, None)
        commit()
    hr = client_of(app, "hana.hr")
    path = f"/people/{world['pat']}/erase"
    response = post_from(
        hr, path, path, {"reason": "Left in 2019; retention over", "confirm": "yes"}
    )
    assert response.status_code == 303


def _leaver_a_year_gone(app, world) -> None:
    """Pat left over a year ago (the clock moved on): their notifications are past retention."""
    with app.app_context():
        pat = db.session.get_one(User, world["pat"])
        accounts.set_leaving_date(pat, date.today(), None)
        accounts.set_active(pat, False, None)
        notify(pat.id, KINDS["assessment_validated"], "probe", date.today(), "/", cycle="1")
        commit()
    app.config["FROZEN_NOW"] = utcnow() + timedelta(days=400)


def do_personal_data_expired(app, world, runner, tmp_path):
    _leaver_a_year_gone(app, world)
    hr = client_of(app, "hana.hr")
    form = {"people": str(world["pat"]), "reason": "Retention", "confirm": "yes"}
    response = post_from(hr, "/privacy/retention", "/privacy/retention", form)
    app.config["FROZEN_NOW"] = None
    assert response.status_code == 303


def do_erasure_requested(app, world, runner, tmp_path):
    do_personal_data_expired(app, world, runner, tmp_path)


def _copy_of_caras_data(app, world, tmp_path):
    """HR asks for a copy of the candidate's data (a job, run in-process): its page."""
    app.config["JOBS_DIR"] = str(tmp_path / "jobs")
    hr = client_of(app, "hana.hr")
    path = f"/recruitment/{world['vacancy']}/candidates/{world['candidate']}/data"
    response = post_from(hr, path, path, {})
    assert response.status_code == 303
    return hr, response.headers["Location"]


def do_candidate_data_requested(app, world, runner, tmp_path):
    _copy_of_caras_data(app, world, tmp_path)
    app.config["JOBS_DIR"] = ""


def do_candidate_data_downloaded(app, world, runner, tmp_path):
    hr, job_page = _copy_of_caras_data(app, world, tmp_path)
    assert hr.get(f"{job_page}/download").status_code == 200
    app.config["JOBS_DIR"] = ""


def do_password_links_downloaded(app, world, runner, tmp_path):
    hr, done = import_csv(
        app,
        "roster",
        "name,email,role,team,supervisor\n"
        "Nia New,nia.new@example.nhs.uk,practitioner,north,sue.super@example.nhs.uk\n",
    )
    token = csrf_from(done.get_data(as_text=True))
    response = hr.post("/admin/imports/links.csv", data={"csrf_token": token})
    assert response.status_code == 200
    assert "nia.new@example.nhs.uk" in response.get_data(as_text=True)


def do_password_set_by_link(app, world, runner, tmp_path):
    with app.app_context():
        token = password_links.issue_links([world["pat"]], None, actor_label="cli")[world["pat"]]
        commit()
    client = app.test_client()
    path = f"/set-password/{token}"
    new = "a long and unusual passphrase 42"
    data = {"new_password": new, "confirm_password": new}
    response = post_from(client, path, path, data)
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:1500]


def do_user_updated(app, world, runner, tmp_path):
    import_csv(
        app,
        "roster",
        "name,email,role,team,supervisor\n"
        "Pat Jones,pat.prac@example.nhs.uk,practitioner,north,sue.super@example.nhs.uk\n",
    )


def do_team_changed(app, world, runner, tmp_path):
    with app.app_context():
        make_team("south")
        commit()
    import_csv(
        app,
        "roster",
        "name,email,role,team,supervisor\n"
        "Pat Prac,pat.prac@example.nhs.uk,practitioner,south,sue.super@example.nhs.uk\n",
    )


def do_leaving_date_changed(app, world, runner, tmp_path):
    _admin_saves_pat(app, world, leaving_date="31/12/2027")


def do_start_date_changed(app, world, runner, tmp_path):
    _admin_saves_pat(app, world, start_date="01/09/2025")


def _module_key(app) -> str:
    with app.app_context():
        return current_version().modules[0].key


def do_completions_imported(app, world, runner, tmp_path):
    day = (date.today() - timedelta(days=3)).isoformat()
    import_csv(
        app, "completions", f"email,module,date\npat.prac@example.nhs.uk,{_module_key(app)},{day}\n"
    )


def do_module_completed(app, world, runner, tmp_path):
    path = f"/people/{world['pat']}/development"
    data = {
        "module": _module_key(app),
        "completed_on": (date.today() - timedelta(days=1)).isoformat(),
    }
    assert post_form(client_of(app, "pat.prac"), path, data).status_code == 303


def _booked_session(app, world) -> int:
    with app.app_context():
        pat = db.session.get_one(User, world["pat"])
        sue = db.session.get_one(User, world["sue"])
        with unit_of_work():
            (session,) = supervision.schedule_sessions(
                pat, sue, date.today() + timedelta(days=20), time(10, 0)
            )
        return session.id


def do_supervision_scheduled(app, world, runner, tmp_path):
    page = f"/people/{world['pat']}/supervision/new"
    day = (date.today() + timedelta(days=14)).isoformat()
    response = post_from(
        client_of(app, "sue.super"),
        page,
        page,
        {"day": day, "time": "10:30", "every_weeks": "4", "sessions": "3"},
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]


def do_supervision_rescheduled(app, world, runner, tmp_path):
    page = f"/supervision/sessions/{_booked_session(app, world)}/reschedule"
    day = (date.today() + timedelta(days=21)).isoformat()
    response = post_from(
        client_of(app, "sue.super"), page, page, {"day": day, "time": "11:00", "place": "Room 2"}
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]


def do_supervision_cancelled(app, world, runner, tmp_path):
    page = f"/supervision/sessions/{_booked_session(app, world)}/cancel"
    response = post_from(client_of(app, "max.manager"), page, page, {})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]


def do_supervision_actions_recorded(app, world, runner, tmp_path):
    page = f"/supervision/sessions/{_booked_session(app, world)}"
    response = post_from(
        client_of(app, "sue.super"), page, page + "/actions", {"agreed_actions": "Shadow a visit"}
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]


def do_module_assigned(app, world, runner, tmp_path):
    # The manager assigns a module from the team's training plan.
    path = "/teams/north/training/assign"
    data = {
        "person": str(world["pat"]),
        "module": _module_key(app),
        "due_on": (date.today() + timedelta(days=30)).isoformat(),
    }
    assert post_from(client_of(app, "max.manager"), path, path, data).status_code == 303


def do_module_assignment_cancelled(app, world, runner, tmp_path):
    do_module_assigned(app, world, runner, tmp_path)
    with app.app_context():
        assignment_id = db.session.scalar(select(training_models.TrainingAssignment.id))
    path = f"/teams/north/training/assignments/{assignment_id}/cancel"
    assert post_from(client_of(app, "max.manager"), path, path, {}).status_code == 303


def do_local_course_added(app, world, runner, tmp_path):
    path = "/training/local-courses"
    data = {
        "title": "Audit probe course",
        "description": "A course the service runs itself.",
        "develops": "1a",
    }
    assert post_from(client_of(app, "hana.hr"), path, path, data).status_code == 303


def do_export(app, world, runner, tmp_path):
    response = client_of(app, "hana.hr").get("/teams/north/export.xlsx")
    assert response.status_code == 200


def do_assessment_submitted(app, world, runner, tmp_path):
    assessment_id = rated(app, world["pat"], submit=False)
    client = client_of(app, "pat.prac")
    summary = f"/assessments/{assessment_id}/summary"
    response = post_from(client, summary, f"/assessments/{assessment_id}/submit", {})
    assert response.status_code == 303


def do_assessment_validated(app, world, runner, tmp_path):
    assessment_id = rated(app, world["pat"], submit=True)
    with app.app_context():
        assessment = db.session.get(Assessment, assessment_id)
        sue = db.session.get(User, world["sue"])
        for element in assessments.elements_of(assessment.framework_version):
            assessments.save_element_decisions(assessment, sue, element, {}, None)
        reviews = {v.id: ("evidenced", "") for v in assessment.framework_version.values}
        assessments.review_values(assessment, sue, reviews, None)
        commit()
    path = f"/supervision/{assessment_id}"
    assert post_from(client_of(app, "sue.super"), path, path, {}).status_code == 303


def do_values_reviewed(app, world, runner, tmp_path):
    assessment_id = rated(app, world["pat"], submit=True)
    with app.app_context():
        values = db.session.get(Assessment, assessment_id).framework_version.values
        data = {f"outcome-{v.id}": "evidenced" for v in values}
        data[f"outcome-{values[0].id}"] = "discuss"
        data[f"note-{values[0].id}"] = "Talk about a recent example"
    page = f"/supervision/{assessment_id}/values"
    assert post_from(client_of(app, "sue.super"), page, page, data).status_code == 303


def do_assessment_returned(app, world, runner, tmp_path):
    assessment_id = rated(app, world["pat"], submit=True)
    page = f"/supervision/{assessment_id}"
    data = {"return_comment": "Add evidence for 1a"}
    response = post_from(client_of(app, "sue.super"), page, f"{page}/return", data)
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Assessment, assessment_id).status.value == "returned"


def do_vacancy_created(app, world, runner, tmp_path):
    data = {
        "team": str(world["team_id"]),
        "title": "Senior keyworker",
        "closing_date": (date.today() + timedelta(days=20)).isoformat(),
        "chair": str(world["sue"]),
        "shortlisters": [str(world["sue"]), str(world["pat"])],
        "interviewers": [str(world["sue"]), str(world["pat"])],
    }
    response = post_form(client_of(app, "rae.recruit"), "/recruitment/new", data)
    assert response.status_code == 303, response.get_data(as_text=True)[:1500]


def do_candidate_added(app, world, runner, tmp_path):
    page = f"/recruitment/{world['vacancy']}"
    data = {"name": "Dev Candidate", "email": "dev@example.com"}
    response = post_from(client_of(app, "rae.recruit"), page, f"{page}/candidates", data)
    assert response.status_code == 303


def do_candidates_imported(app, world, runner, tmp_path):
    page = f"/recruitment/{world['vacancy']}"
    data = {
        "file": (_bytes("name,email\nEve Candidate,eve@example.com\nFin Candidate,\n"), "c.csv")
    }
    response = post_from(
        client_of(app, "rae.recruit"),
        page,
        f"{page}/candidates/import",
        data,
        content_type="multipart/form-data",
    )
    assert response.status_code == 303


def do_shortlist_marked(app, world, runner, tmp_path):
    path = f"/recruitment/{world['vacancy']}/candidates/{world['candidate']}/shortlist"
    with app.app_context():
        vacancy = db.session.get(Vacancy, world["vacancy"])
        essential = [
            c.key for c in recruitment.shortlist_criteria(vacancy) if c.requirement == "essential"
        ]
        desirable = [
            c.key for c in recruitment.shortlist_criteria(vacancy) if c.requirement != "essential"
        ]
    data = {f"c-{key}": "met" for key in essential} | {f"c-{key}": "3" for key in desirable}
    assert post_from(client_of(app, "sue.super"), path, path, data).status_code == 303


def do_interview_scores_submitted(app, world, runner, tmp_path):
    path = f"/recruitment/{world['vacancy']}/candidates/{world['candidate']}/interview"
    data = interview_form(app, world)
    assert post_from(client_of(app, "sue.super"), path, path, data).status_code == 303


def do_scores_agreed(app, world, runner, tmp_path):
    submit_scores_as(app, world, "max.manager")
    base = f"/recruitment/{world['vacancy']}/candidates/{world['candidate']}"
    data = {k.replace("s-", "a-"): v for k, v in interview_form(app, world).items()}
    response = post_from(client_of(app, "max.manager"), f"{base}/interview", f"{base}/agree", data)
    assert response.status_code == 303


def do_candidates_purged(app, world, runner, tmp_path):
    with app.app_context():
        db.session.get(Vacancy, world["vacancy"]).closing_date = date.today() - timedelta(days=800)
        commit()
    result = runner.invoke(args=["purge-candidates"])
    assert result.exit_code == 0, result.output


def do_framework_loaded(app, world, runner, tmp_path):
    from tests.conftest import DEFAULT_FRAMEWORK_PATH

    raw = DEFAULT_FRAMEWORK_PATH.read_text(encoding="utf-8")
    changed = raw.replace("version_label: Preliminary", "version_label: Revised preliminary", 1)
    assert changed != raw
    path = tmp_path / "framework-v2.yaml"
    path.write_text(changed, encoding="utf-8")
    result = runner.invoke(args=["load-framework", str(path)])
    assert result.exit_code == 0, result.output


def do_api_token_created(app, world, runner, tmp_path):
    response = post_form(
        client_of(app, "max.manager"),
        "/account/api-tokens",
        {"name": "Power BI coverage", "days": "30"},
    )
    assert response.status_code == 200 and b'data-testid="new-token"' in response.data


def _manager_token(app) -> tuple[int, str]:
    from competency_app.api.tokens import create_token

    with app.app_context():
        new = create_token(accounts.user_by_email("max.manager@example.nhs.uk"), "BI", 30)
        commit()
        return new.token.id, new.secret


def do_api_token_revoked(app, world, runner, tmp_path):
    token_id, _secret = _manager_token(app)
    path = f"/account/api-tokens/{token_id}/revoke"
    assert post_form(client_of(app, "max.manager"), path, {}).status_code == 303


def do_api_token_refused(app, world, runner, tmp_path):
    token_id, secret = _manager_token(app)
    path = f"/account/api-tokens/{token_id}/revoke"
    assert post_form(client_of(app, "max.manager"), path, {}).status_code == 303
    response = app.test_client().get("/api/v1/teams", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401


def _marks(vacancy, met: bool = True) -> dict:
    return {
        c.key: (met, None) if c.requirement == "essential" else (None, 3)
        for c in recruitment.shortlist_criteria(vacancy)
    }


def forward_and_agree(app, world) -> None:
    """The candidate goes forward and the panel's scores are agreed (at the top score)."""
    with app.app_context():
        vacancy = db.session.get(Vacancy, world["vacancy"])
        candidate = db.session.get(Candidate, world["candidate"])
        for local in ("sue.super", "max.manager"):
            person = accounts.user_by_email(f"{local}@example.nhs.uk")
            recruitment.save_shortlist(candidate, person, _marks(vacancy))
        commit()
    submit_scores_as(app, world, "sue.super")
    submit_scores_as(app, world, "max.manager")
    with app.app_context():
        candidate = db.session.get(Candidate, world["candidate"])
        top = recruitment.scoring_of(candidate.vacancy).scale.top
        keys = [c.key for c in recruitment.interview_criteria(candidate.vacancy)]
        chair = accounts.user_by_email("max.manager@example.nhs.uk")
        recruitment.save_agreed(candidate, chair, {k: top for k in keys})
        commit()


def do_vacancy_state_changed(app, world, runner, tmp_path):
    page = f"/recruitment/{world['vacancy']}"
    response = post_from(client_of(app, "rae.recruit"), page, f"{page}/stage", {"to": "closed"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Vacancy, world["vacancy"]).state == "closed"


def do_shortlist_moderated(app, world, runner, tmp_path):
    with app.app_context():
        vacancy = db.session.get(Vacancy, world["vacancy"])
        candidate = db.session.get(Candidate, world["candidate"])
        sue = accounts.user_by_email("sue.super@example.nhs.uk")
        max_ = accounts.user_by_email("max.manager@example.nhs.uk")
        recruitment.save_shortlist(candidate, sue, _marks(vacancy))
        recruitment.save_shortlist(candidate, max_, _marks(vacancy, met=False))
        commit()
        disputed = [c.key for c in recruitment.shortlist_results(vacancy)[0].disputed]
    assert disputed
    data = {f"m-{k}": "met" for k in disputed} | {f"r-{k}": "Clear evidence" for k in disputed}
    path = f"/recruitment/{world['vacancy']}/candidates/{world['candidate']}/moderate"
    assert post_from(client_of(app, "rae.recruit"), path, path, data).status_code == 303


def do_interview_slot_set(app, world, runner, tmp_path):
    path = f"/recruitment/{world['vacancy']}/candidates/{world['candidate']}/slot"
    day = (date.today() + timedelta(days=35)).isoformat()
    data = {"slot_date": day, "slot_time": "09:30", "place": "Room 2, Civic Centre"}
    assert post_from(client_of(app, "rae.recruit"), path, path, data).status_code == 303


def do_panel_member_invited(app, world, runner, tmp_path):
    page = f"/recruitment/{world['vacancy']}"
    data = {"invite_name": "Lee Lay", "invite_email": "lee.lay@example.org"}
    response = post_from(client_of(app, "rae.recruit"), page, f"{page}/panel", data)
    assert response.status_code == 200 and "/set-password/" in response.get_data(as_text=True)


def do_assessment_task_scored(app, world, runner, tmp_path):
    forward_and_agree(app, world)
    path = f"/recruitment/{world['vacancy']}/candidates/{world['candidate']}/assessment"
    with app.app_context():
        vacancy = db.session.get(Vacancy, world["vacancy"])
        data = {f"t-{c.key}": "4" for c in recruitment.assessment_criteria(vacancy)}
    assert post_from(client_of(app, "max.manager"), path, path, data).status_code == 303


def do_candidate_appointed(app, world, runner, tmp_path):
    forward_and_agree(app, world)
    with app.app_context():
        vacancy = db.session.get(Vacancy, world["vacancy"])
        rae = accounts.user_by_email("rae.recruit@example.nhs.uk")
        recruitment.move_vacancy(vacancy, "interviewing", rae)
        recruitment.move_vacancy(vacancy, "decided", rae)
        recruitment.make_offer(db.session.get(Candidate, world["candidate"]), rae)
        clear_checks(db.session.get(Candidate, world["candidate"]), rae)
        commit()
    path = f"/recruitment/{world['vacancy']}/candidates/{world['candidate']}/appoint"
    data = {
        "email": "new.starter@example.nhs.uk",
        "start_date": (date.today() + timedelta(days=40)).isoformat(),
        "supervisor": str(world["sue"]),
    }
    response = post_from(client_of(app, "rae.recruit"), path, path, data)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]


def _offer(app, world):
    forward_and_agree(app, world)
    with app.app_context():
        vacancy = db.session.get(Vacancy, world["vacancy"])
        rae = accounts.user_by_email("rae.recruit@example.nhs.uk")
        recruitment.move_vacancy(vacancy, "interviewing", rae)
        recruitment.move_vacancy(vacancy, "decided", rae)
        recruitment.make_offer(db.session.get(Candidate, world["candidate"]), rae)
        commit()
    return f"/recruitment/{world['vacancy']}/candidates/{world['candidate']}"


def do_pre_employment_check_recorded(app, world, runner, tmp_path):
    base = _offer(app, world)
    data = {"outcome": "satisfactory", "checked_on": date.today().isoformat()}
    page = f"{base}/conditional-offer"
    response = post_from(client_of(app, "rae.recruit"), page, f"{base}/checks/references", data)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]


def do_pre_employment_check_waived(app, world, runner, tmp_path):
    base = _offer(app, world)
    data = {
        "outcome": "waived",
        "checked_on": date.today().isoformat(),
        "waiver_reason": "Occupational health cleared them for this employer last month.",
    }
    page = f"{base}/conditional-offer"
    path = f"{base}/checks/occupational-health"
    response = post_from(client_of(app, "rae.recruit"), page, path, data)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]


# Actions no test performs yet (none: every catalogued action has a row below).
NOT_YET_PERFORMED: set[AuditAction] = set()
PERFORM = {
    AuditAction.SIGN_IN: do_sign_in,
    AuditAction.SIGN_IN_FAILED: do_sign_in_failed,
    AuditAction.SSO_SIGN_IN_FAILED: do_sso_sign_in_failed,
    AuditAction.SSO_LINK_REMOVED: do_sso_link_removed,
    AuditAction.SIGN_OUT: do_sign_out,
    AuditAction.PASSWORD_CHANGED: do_password_changed,
    AuditAction.PASSWORD_RESET: do_password_reset,
    AuditAction.USER_CREATED: do_user_created,
    AuditAction.USER_DISABLED: do_user_disabled,
    AuditAction.USER_ENABLED: do_user_enabled,
    AuditAction.ROLES_CHANGED: do_roles_changed,
    AuditAction.SUPERVISOR_CHANGED: do_supervisor_changed,
    AuditAction.TEAM_CREATED: do_team_created,
    AuditAction.STAFF_IMPORTED: do_staff_imported,
    AuditAction.COMPLETIONS_IMPORTED: do_completions_imported,
    AuditAction.MODULE_COMPLETED: do_module_completed,
    AuditAction.MODULE_ASSIGNED: do_module_assigned,
    AuditAction.MODULE_ASSIGNMENT_CANCELLED: do_module_assignment_cancelled,
    AuditAction.EXPORT: do_export,
    AuditAction.ASSESSMENT_SUBMITTED: do_assessment_submitted,
    AuditAction.ASSESSMENT_VALIDATED: do_assessment_validated,
    AuditAction.ASSESSMENT_RETURNED: do_assessment_returned,
    AuditAction.SUPERVISION_SCHEDULED: do_supervision_scheduled,
    AuditAction.SUPERVISION_RESCHEDULED: do_supervision_rescheduled,
    AuditAction.SUPERVISION_CANCELLED: do_supervision_cancelled,
    AuditAction.SUPERVISION_ACTIONS_RECORDED: do_supervision_actions_recorded,
    AuditAction.VALUES_REVIEWED: do_values_reviewed,
    AuditAction.VACANCY_CREATED: do_vacancy_created,
    AuditAction.CANDIDATE_ADDED: do_candidate_added,
    AuditAction.CANDIDATES_IMPORTED: do_candidates_imported,
    AuditAction.SHORTLIST_MARKED: do_shortlist_marked,
    AuditAction.INTERVIEW_SCORES_SUBMITTED: do_interview_scores_submitted,
    AuditAction.SCORES_AGREED: do_scores_agreed,
    AuditAction.CANDIDATES_PURGED: do_candidates_purged,
    AuditAction.FRAMEWORK_LOADED: do_framework_loaded,
    AuditAction.VACANCY_STATE_CHANGED: do_vacancy_state_changed,
    AuditAction.SHORTLIST_MODERATED: do_shortlist_moderated,
    AuditAction.INTERVIEW_SLOT_SET: do_interview_slot_set,
    AuditAction.PANEL_MEMBER_INVITED: do_panel_member_invited,
    AuditAction.ASSESSMENT_TASK_SCORED: do_assessment_task_scored,
    AuditAction.CANDIDATE_APPOINTED: do_candidate_appointed,
    AuditAction.PRE_EMPLOYMENT_CHECK_RECORDED: do_pre_employment_check_recorded,
    AuditAction.PRE_EMPLOYMENT_CHECK_WAIVED: do_pre_employment_check_waived,
    AuditAction.PASSWORD_LINK_ISSUED: do_password_link_issued,
    AuditAction.PASSWORD_SET_BY_LINK: do_password_set_by_link,
    AuditAction.PASSWORD_LINKS_DOWNLOADED: do_password_links_downloaded,
    AuditAction.PERSONAL_DATA_REQUESTED: do_personal_data_requested,
    AuditAction.PERSONAL_DATA_DOWNLOADED: do_personal_data_downloaded,
    AuditAction.PERSONAL_DATA_ERASED: do_personal_data_erased,
    AuditAction.PERSONAL_DATA_EXPIRED: do_personal_data_expired,
    AuditAction.ERASURE_REQUESTED: do_erasure_requested,
    AuditAction.CANDIDATE_DATA_REQUESTED: do_candidate_data_requested,
    AuditAction.CANDIDATE_DATA_DOWNLOADED: do_candidate_data_downloaded,
    AuditAction.USER_UPDATED: do_user_updated,
    AuditAction.TEAM_CHANGED: do_team_changed,
    AuditAction.LEAVING_DATE_CHANGED: do_leaving_date_changed,
    AuditAction.START_DATE_CHANGED: do_start_date_changed,
    AuditAction.API_TOKEN_CREATED: do_api_token_created,
    AuditAction.API_TOKEN_REVOKED: do_api_token_revoked,
    AuditAction.API_TOKEN_REFUSED: do_api_token_refused,
    AuditAction.COLLABORATIVE_CREATED: do_collaborative_created,
    AuditAction.ORGANISATION_CREATED: do_organisation_created,
    AuditAction.ORGANISATION_CHANGED: do_organisation_changed,
    AuditAction.FIRST_ADMIN_CREATED: do_first_admin_created,
    AuditAction.INSTALLATION_ADMIN_GRANTED: do_installation_admin_granted,
    AuditAction.LOCAL_COURSE_ADDED: do_local_course_added,
}


def test_the_catalogue_is_the_agreed_list_with_a_label_each():
    assert [a.value for a in AuditAction] == AGREED_ACTIONS
    assert set(AUDIT_LABELS) == set(AuditAction)
    assert all(label and label[0].isupper() for label in AUDIT_LABELS.values())


def test_every_catalogued_action_has_a_row():
    assert set(PERFORM) | NOT_YET_PERFORMED == set(AuditAction)
    assert not set(PERFORM) & NOT_YET_PERFORMED


def test_record_takes_only_catalogued_actions(app_ctx):
    assert accounts.record("sign_in", None).action == "sign_in"
    assert accounts.record(AuditAction.EXPORT, None).action == "export"
    with pytest.raises(ValueError, match="not an audit action"):
        accounts.record("scores_aggreed", None)
    db.session.rollback()


def test_the_filter_offers_the_whole_catalogue_with_labels(app, world):
    page = client_of(app, "ada.admin").get("/admin/audit").get_data(as_text=True)
    found = re.findall(r'<option value="([a-z_]+)"[^>]*>\s*([^<]+?)\s*</option>', page)
    options = {value: html.unescape(text) for value, text in found}
    assert options == {a.value: a.label for a in AuditAction}


@pytest.mark.parametrize("action", list(PERFORM), ids=str)
def test_each_action_is_recorded_and_filterable(app, world, runner, tmp_path, action):
    with app.app_context():
        before = db.session.scalar(
            select(db.func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
        )
    PERFORM[action](app, world, runner, tmp_path)
    with app.app_context():
        events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))
    assert len(events) > before, f"{action} was not recorded"
    for event in events:  # ids and counts only: no candidate's name or contact in the log
        text = f"{event.target} {event.detail}"
        assert CANDIDATE_NAME not in text and CANDIDATE_EMAIL not in text
        assert "Dev Candidate" not in text and "Eve Candidate" not in text
    with app.app_context():
        ada = accounts.user_by_email("ada.admin@example.nhs.uk")
        in_adas_log = events[-1].organisation_id == ada.organisation_id
    # an organisation's events are in its administrator's log; the installation
    # administrator reads every organisation's and the installation's own (no organisation)
    reader = "ada.admin" if in_adas_log else "ian.install"
    page = client_of(app, reader).get(f"/admin/audit?action={action.value}")
    assert page.status_code == 200
    found = re.findall(r'<td class="nhsuk-table__cell">([^<]*)</td>', page.get_data(as_text=True))
    cells = [html.unescape(cell) for cell in found]
    assert action.label in cells, f"{action} not listed under its filter"
    other = {a.label for a in AuditAction if a != action}
    assert not other & set(cells), "the filter let other actions through"
