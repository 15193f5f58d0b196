"""Assigning modules from a team's training plan: refusals change nothing, the keyworker
sees the assignment, a completion marks it done and asks for reassessment (never
competence), cancelling asks first; imported completions count as required training."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from competency_app.accounts.models import AuditEvent, Role, Team, User
from competency_app.assessments.models import CurrentRating
from competency_app.clock import today, utcnow
from competency_app.extensions import db
from competency_app.framework.services import current_version
from competency_app.training.models import ModuleCompletion, TrainingAssignment
from competency_app.training.services import assign_module
from tests.conftest import csrf_from, sign_in
from tests.factories import PASSWORD, commit, make_team, make_user

MODULE = "module.trauma-informed"  # develops 1a, 4b and compassion; not required
ASSIGN = "/teams/north/training/assign"


@pytest.fixture
def teams(app, framework):
    with app.app_context():
        north, south = make_team("north", "North team"), make_team("south", "South team")
        sue = make_user("sue.super", Role.SUPERVISOR, team=north)
        make_user("max.manager", Role.MANAGER, team=north)
        make_user("hana.hr", Role.HR)
        pat = make_user("pat.prac", Role.PRACTITIONER, team=north, supervisor=sue)
        sol = make_user("sol.south", Role.PRACTITIONER, team=south)
        commit()
        return {"pat": pat.id, "sol": sol.id}


def client_of(app, local: str):
    client = app.test_client()
    assert sign_in(client, f"{local}@example.nhs.uk", PASSWORD).status_code in (302, 303)
    return client


def text_of(html: str) -> str:
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    return re.sub(r" ([:;,.)])", r"\1", text)


def state(app) -> tuple:
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(TrainingAssignment)),
            db.session.scalar(select(func.count()).select_from(AuditEvent)),
        )


def post_assign(client, data: dict):
    token = csrf_from(client.get(ASSIGN).get_data(as_text=True))
    return client.post(ASSIGN, data={"csrf_token": token, **data})


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"module": "module.not-in-catalogue"}, "module", "Choose a module from the catalogue"),
        ({"due_on": "past"}, "due_on", "The due date must be today or later"),
        ({"person": "sol"}, "person", "Choose a keyworker in North team"),
        ({"due_on": "31/13/2027"}, "due_on", "Enter the date it is due as a date, for example"),
        ({"person": ""}, "person", "Choose the keyworker to assign the module to"),
        ({"element": "x" * 300}, "module", "The gap named is not an element of the framework"),
    ],
)
def test_refused_assignments_change_nothing_and_keep_the_form(app, teams, change, field, message):
    client = client_of(app, "max.manager")
    data = {
        "person": str(teams["pat"]),
        "module": MODULE,
        "due_on": (today() + timedelta(days=30)).isoformat(),
        "note": "Before the March review",
        "element": "1a",
    }
    data.update(change)
    if data["due_on"] == "past":
        data["due_on"] = (today() - timedelta(days=1)).isoformat()
    if data["person"] == "sol":
        data["person"] = str(teams["sol"])
    before = state(app)
    response = post_assign(client, data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and message in html
    assert f'href="#{field}"' in html  # the summary links to the field
    assert "Before the March review" in html  # the note is kept
    assert f'value="{data["due_on"]}"' in html  # the date as typed
    assert state(app) == before


def test_a_manager_of_another_team_cannot_assign(app, teams):
    with app.app_context():
        south = db.session.scalars(select(Team).where(Team.slug == "south")).one()
        make_user("mia.south", Role.MANAGER, team=south)
        commit()
    before = state(app)
    client = client_of(app, "mia.south")
    assert client.get(ASSIGN).status_code == 403
    assert state(app)[0] == before[0]


def test_assign_see_complete_reassess_and_cancel(app, teams):
    manager = client_of(app, "max.manager")
    plan = text_of(manager.get("/teams/north/training-plan").get_data(as_text=True))
    assert "Assigned training: 0 assigned, 0 completed" in plan
    # the form arrives filled in from a plan step
    form = manager.get(f"{ASSIGN}?module={MODULE}&element=1a&person={teams['pat']}")
    html = form.get_data(as_text=True)
    assert f'<option value="{MODULE}" selected' in html
    assert f'<option value="{teams["pat"]}" selected' in html
    due = today() + timedelta(days=21)
    response = manager.post(
        ASSIGN,
        data={
            "csrf_token": csrf_from(html),
            "person": str(teams["pat"]),
            "module": MODULE,
            "due_on": due.isoformat(),
            "element": "1a",
            "note": "Ahead of your next supervision",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        assignment = db.session.scalars(select(TrainingAssignment)).one()
        assert (assignment.person_id, assignment.module_key) == (teams["pat"], MODULE)
        assert assignment.element_key == "1a" and assignment.due_on == due
        assignment_id = assignment.id
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "module_assigned")
        ).one()
        assert "Pat" not in str(event.detail)  # ids only
    uk_due = f"{due.day} {due:%B %Y}"
    # the same module again, while not done, is refused
    again = post_assign(
        manager, {"person": str(teams["pat"]), "module": MODULE, "due_on": due.isoformat()}
    )
    assert again.status_code == 400
    assert f"Pat Prac already has this module to complete by {uk_due}" in text_of(
        again.get_data(as_text=True)
    )
    plan = text_of(manager.get("/teams/north/training-plan").get_data(as_text=True))
    assert "Assigned training: 1 assigned, 0 completed" in plan
    assert "Pat Prac Developing your trauma skilled practice" in plan
    coverage = text_of(manager.get("/teams/north/coverage").get_data(as_text=True))
    assert "Assigned training: 1 assigned, 0 completed" in coverage
    # the keyworker sees it on home and in their plan
    pat = client_of(app, "pat.prac")
    home = text_of(pat.get("/").get_data(as_text=True))
    assert "Assigned to you: Developing your trauma skilled practice" in home
    assert f"due by {uk_due}" in home
    development = f"/people/{teams['pat']}/development"
    mine = text_of(pat.get(development).get_data(as_text=True))
    assert "Due Developing your trauma skilled practice" in mine
    assert "Note: Ahead of your next supervision" in mine
    assert "0 of 1 assigned module completed" in mine
    assert "Reassess at your next supervision" not in mine
    # completing it marks it done and asks for reassessment; it is not competence
    token = csrf_from(pat.get(development).get_data(as_text=True))
    done = pat.post(
        development,
        data={"csrf_token": token, "module": MODULE, "completed_on": today().isoformat()},
    )
    assert done.status_code == 303
    mine = text_of(pat.get(development).get_data(as_text=True))
    assert "1 of 1 assigned module completed" in mine
    assert "Reassess at your next supervision" in mine
    assert "after Developing your trauma skilled practice" in mine
    home = text_of(pat.get("/").get_data(as_text=True))
    assert "Assigned to you:" not in home
    plan = text_of(manager.get("/teams/north/training-plan").get_data(as_text=True))
    assert "Assigned training: 1 assigned, 1 completed" in plan
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CurrentRating)) == 0
    # a completed assignment cannot be cancelled
    cancel = f"/teams/north/training/assignments/{assignment_id}/cancel"
    page = manager.get(cancel)
    assert page.status_code == 200
    refused = manager.post(cancel, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert refused.status_code == 409
    assert "nothing to cancel" in refused.get_data(as_text=True)


def test_cancelling_asks_first_and_hides_the_assignment(app, teams):
    manager = client_of(app, "max.manager")
    due = today() + timedelta(days=10)
    assert (
        post_assign(
            manager, {"person": str(teams["pat"]), "module": MODULE, "due_on": due.isoformat()}
        ).status_code
        == 303
    )
    with app.app_context():
        assignment_id = db.session.scalar(select(TrainingAssignment.id))
    # the clock moves past the due date: overdue for the keyworker and on the plan
    app.config["FROZEN_NOW"] = utcnow() + timedelta(days=11)
    late = text_of(client_of(app, "pat.prac").get("/").get_data(as_text=True))
    assert f"overdue since {due.day} {due:%B %Y}" in late
    plan = text_of(manager.get("/teams/north/training-plan").get_data(as_text=True))
    assert "Assigned training: 1 assigned, 0 completed, 1 overdue" in plan
    app.config.pop("FROZEN_NOW")
    cancel = f"/teams/north/training/assignments/{assignment_id}/cancel"
    page = manager.get(cancel)
    html = text_of(page.get_data(as_text=True))
    assert "Cancel this assignment?" in html and "Pat Prac" in html
    assert f"{due.day} {due:%B %Y}" in html
    response = manager.post(cancel, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(TrainingAssignment, assignment_id).cancelled_at is not None
    assert manager.get(cancel).status_code == 404  # already cancelled
    home = text_of(client_of(app, "pat.prac").get("/").get_data(as_text=True))
    assert "Assigned to you:" not in home
    # an assignment of another team's person is not found through this team
    with app.app_context():
        sol = db.session.get(User, teams["sol"])
        other = assign_module(sol, MODULE, due, sol, current_version())
        commit()
        other_id = other.id
    assert manager.get(f"/teams/north/training/assignments/{other_id}/cancel").status_code == 404


def test_imported_completions_count_as_required_training(app, teams):
    hr = client_of(app, "hana.hr")
    day = today() - timedelta(days=3)
    text = f"email,module,date\npat.prac@example.nhs.uk,module.cyp-keyworker,{day.isoformat()}\n"
    token = csrf_from(hr.get("/admin/imports").get_data(as_text=True))
    preview = hr.post(
        "/admin/imports/preview",
        data={
            "csrf_token": token,
            "kind": "completions",
            "file": (io.BytesIO(text.encode()), "completions.csv"),
        },
        content_type="multipart/form-data",
    )
    assert preview.status_code == 200
    preview_html = preview.get_data(as_text=True)
    pending = re.search(r'name="token" value="([^"]+)"', preview_html).group(1)
    applied = hr.post(
        "/admin/imports/apply", data={"csrf_token": csrf_from(preview_html), "token": pending}
    )
    assert applied.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ModuleCompletion)) == 1
    page = text_of(
        client_of(app, "max.manager").get("/teams/north/training").get_data(as_text=True)
    )
    assert re.search(
        rf"Children and young people keyworker e-learning .*?Pat Prac {day.day} {day:%B %Y} "
        r"No refresh needed In date",
        page,
    )
    mine = text_of(client_of(app, "pat.prac").get("/").get_data(as_text=True))
    assert "Required training to complete: Children and young people keyworker" not in mine
    assert "Required training to complete: The Oliver McGowan" in mine


def test_a_completion_stored_with_a_future_date_does_not_complete_an_assignment(app, teams):
    """Stored before such dates were refused: it counts for nothing until its day comes."""
    from competency_app.training.services import person_assignments

    with app.app_context():
        pat = db.session.get_one(User, teams["pat"])
        sue = db.session.scalar(select(User).where(User.email == "sue.super@example.nhs.uk"))
        version = current_version()
        key = next(m.key for m in version.modules if not m.required)
        assign_module(pat, key, today() + timedelta(days=30), sue, version)
        db.session.add(
            ModuleCompletion(
                person_id=pat.id,
                module_key=key,
                completed_on=today() + timedelta(days=400),
                recorded_at=utcnow(),
                recorded_by_id=sue.id,
            )
        )
        commit()
        (progress,) = person_assignments(pat)
        assert not progress.done and progress.status != "done"
