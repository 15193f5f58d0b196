"""Administration pages, the account commands, the audit log filters, and escaping."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from competency_app.accounts import services
from competency_app.accounts.models import AuditEvent, Role, Team, User
from competency_app.extensions import db
from tests.conftest import csrf_from, post_form, sign_in
from tests.factories import PASSWORD, commit, make_team, make_user

XSS = '<script>alert("x")</script>'


def _admin(app, client):
    with app.app_context():
        make_team("north")
        make_user("ada.admin", Role.ADMIN)
        commit()
    sign_in(client, "ada.admin@example.nhs.uk", PASSWORD)


def test_create_team_and_user_commands(app, runner):
    result = runner.invoke(args=["create-team", "north", "--name", "North team"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=[
            "create-user",
            "Sue@Example.nhs.uk",
            "--name",
            "Sue Super",
            "--role",
            "supervisor",
            "--team",
            "north",
        ],
        input="a long enough password\na long enough password\n",
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=[
            "create-user",
            "pat@example.nhs.uk",
            "--name",
            "Pat",
            "--role",
            "practitioner",
            "--team",
            "north",
            "--supervisor",
            "sue@example.nhs.uk",
        ],
        input="another long password\nanother long password\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        pat = services.user_by_email("pat@example.nhs.uk")
        assert services.supervisor_of(pat).name == "Sue Super"
        assert "a long enough password" not in str(
            db.session.scalars(select(AuditEvent.detail)).all()
        )


def test_commands_refuse_bad_input_with_exit_2(app, runner):
    assert runner.invoke(args=["create-team", "Bad Slug!", "--name", "x"]).exit_code == 2
    runner.invoke(args=["create-team", "north", "--name", "North"])
    assert runner.invoke(args=["create-team", "north", "--name", "Again"]).exit_code == 2
    cases = [
        (["--team", "nowhere"], "--team"),
        (["--team", "north", "--supervisor", "ghost@example.nhs.uk"], "--supervisor"),
        ([], "needs a team"),
    ]
    for extra, message in cases:
        result = runner.invoke(
            args=[
                "create-user",
                "x@example.nhs.uk",
                "--name",
                "X",
                "--role",
                "practitioner",
                *extra,
            ],
            input="a long enough password\na long enough password\n",
        )
        assert result.exit_code == 2, result.output
        assert message in result.output
    result = runner.invoke(
        args=["create-user", "x@example.nhs.uk", "--name", "X", "--role", "hr"],
        input="short\nshort\n",
    )
    assert result.exit_code == 2 and "12 characters" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_admin_sets_roles_and_supervisor_and_disables(app, client):
    _admin(app, client)
    with app.app_context():
        team = db.session.scalar(select(Team))
        sue = make_user("sue.super", Role.SUPERVISOR, team=team)
        pat = make_user("pat.prac", Role.PRACTITIONER, team=team)
        commit()
        pat_id, sue_id, team_id = pat.id, sue.id, team.id
    response = post_form(
        client,
        f"/admin/people/{pat_id}",
        data={
            "team": str(team_id),
            "roles": ["practitioner", "recruiter"],
            "supervisor": str(sue_id),
        },
    )
    assert response.status_code == 303
    with app.app_context():
        pat = db.session.get(User, pat_id)
        assert pat.role_set == {Role.PRACTITIONER, Role.RECRUITER}
        assert not pat.active  # the "active" box was not ticked
        assert services.supervisor_of(pat).id == sue_id
        actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"roles_changed", "supervisor_changed", "user_disabled"} <= actions
    # no role chosen: 400, the form keeps the team, nothing changes
    response = post_form(client, f"/admin/people/{pat_id}", data={"team": str(team_id)})
    assert response.status_code == 400
    assert "Choose at least one role" in response.get_data(as_text=True)


def test_admin_cannot_remove_own_admin_role(app, client):
    _admin(app, client)
    with app.app_context():
        me = services.user_by_email("ada.admin@example.nhs.uk").id
    response = post_form(client, f"/admin/people/{me}", data={"roles": ["hr"], "active": "y"})
    assert response.status_code == 400
    assert "cannot remove your own administrator role" in response.get_data(as_text=True)


def test_new_person_form_keeps_input_on_error(app, client):
    _admin(app, client)
    response = post_form(
        client,
        "/admin/people/new",
        data={"name": "Nia Jones", "email": "not-an-email", "roles": ["practitioner"]},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Enter an email address in the right format" in page
    assert 'value="Nia Jones"' in page and 'value="not-an-email"' in page


def test_audit_log_filters(app, client):
    _admin(app, client)
    page = client.get("/admin/audit?action=sign_in").get_data(as_text=True)
    assert "ada.admin@example.nhs.uk" in page
    assert client.get("/admin/audit?action=nonsense").status_code == 400
    bad = client.get("/admin/audit?from=1 Nov")
    assert bad.status_code == 400
    assert "for example 17/03/2027" in bad.get_data(as_text=True)
    assert client.get("/admin/audit?from=01/11/2026").status_code == 200  # the UK form too
    assert "No events match" in client.get("/admin/audit?who=nobody-at-all").get_data(as_text=True)


def test_free_text_is_escaped_everywhere(app, client):
    _admin(app, client)
    with app.app_context():
        team = db.session.scalar(select(Team))
        make_user("eve.evil", Role.PRACTITIONER, team=team)
        user = services.user_by_email("eve.evil@example.nhs.uk")
        user.name = XSS
        commit()
    for path in ["/admin/people", "/admin/audit", f"/admin/people/{_id(app, 'eve.evil')}"]:
        page = client.get(path).get_data(as_text=True)
        assert XSS not in page, path
    # and in a search box echo
    page = client.get("/admin/people", query_string={"q": XSS}).get_data(as_text=True)
    assert XSS not in page and "&lt;script&gt;" in page
    token = csrf_from(client.get("/admin/teams").get_data(as_text=True))
    client.post("/admin/teams", data={"csrf_token": token, "name": XSS, "slug": "evil"})
    assert XSS not in client.get("/admin/teams").get_data(as_text=True)


def _id(app, local):
    with app.app_context():
        return services.user_by_email(f"{local}@example.nhs.uk").id


def test_audit_log_date_filters_take_whole_london_days(app, client):
    _admin(app, client)
    day = datetime.now(ZoneInfo("Europe/London")).date()
    today = client.get(f"/admin/audit?from={day}&to={day}&action=sign_in")
    assert today.status_code == 200
    assert "ada.admin@example.nhs.uk" in today.get_data(as_text=True)
    later = client.get(f"/admin/audit?from={day + timedelta(days=1)}&action=sign_in")
    assert "No events match" in later.get_data(as_text=True)
    earlier = client.get(f"/admin/audit?to={day - timedelta(days=1)}&action=sign_in")
    assert "No events match" in earlier.get_data(as_text=True)
