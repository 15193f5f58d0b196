"""Who may grant what: one rule, asked by the admin pages, the CLI and the roster import.

HR creates and updates keyworkers, supervisors, managers and recruiters; it never grants or
removes `admin` or `hr` and never changes an administrator's account. Nobody removes the
last active administrator. Every refusal is a clear message and changes nothing.
"""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from competency_app.accounts import services
from competency_app.accounts.models import AuditEvent, Role, RoleAssignment, User
from competency_app.extensions import db
from tests.conftest import csrf_from, post_form, sign_in
from tests.factories import PASSWORD, commit, make_team, make_user

# The attack as it was measured: HR previews and applies a row making itself administrator.
ATTACK = b"name,email,role,team,supervisor\nPriya Shah,priya.shah@demo.nhs.uk,hr;admin,,\n"


@pytest.fixture
def organisation(app):
    with app.app_context():
        north = make_team("north", "North keyworking team")
        make_user("sue.super", Role.SUPERVISOR, team=north)
        services.create_user(
            "priya.shah@demo.nhs.uk",
            "Priya Shah",
            PASSWORD,
            [services.RoleGrant(Role.HR, None)],
            None,
        )
        make_user("ada.admin", Role.ADMIN)
        make_user("pat.prac", Role.PRACTITIONER, team=north)
        commit()


def _snapshot(app) -> list:
    """Everyone's roles, state and session version: what a refused change must not touch."""
    with app.app_context():
        people = db.session.execute(
            select(User.email, User.name, User.active, User.session_version).order_by(User.email)
        ).all()
        roles = db.session.execute(
            select(RoleAssignment.user_id, RoleAssignment.role, RoleAssignment.team_id).order_by(
                RoleAssignment.user_id, RoleAssignment.role
            )
        ).all()
        return [tuple(p) for p in people] + [tuple(r) for r in roles]


def _preview(client, content: bytes, filename: str = "staff.csv"):
    token = csrf_from(client.get("/admin/imports").get_data(as_text=True))
    response = client.post(
        "/admin/imports/preview",
        data={"csrf_token": token, "kind": "roster", "file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )
    return token, response


def test_hr_import_cannot_grant_itself_admin(app, client, organisation):
    before = _snapshot(app)
    sign_in(client, "priya.shah@demo.nhs.uk", PASSWORD)
    token, response = _preview(client, ATTACK)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Row 2, column role: Only an administrator can grant the role admin" in page
    assert 'name="token"' not in page  # no apply button: nothing pending
    # applying anyway (a forged or replayed form) finds nothing to apply
    applied = client.post("/admin/imports/apply", data={"csrf_token": token, "token": "x"})
    assert applied.status_code == 409
    assert _snapshot(app) == before
    client.post("/logout", data={"csrf_token": token})
    sign_in(client, "priya.shah@demo.nhs.uk", PASSWORD)
    for path in ("/admin", "/admin/people", "/admin/audit"):
        assert client.get(path).status_code == 403


def test_hr_import_cannot_demote_the_only_admin_or_grant_hr(app, client, organisation):
    before = _snapshot(app)
    sign_in(client, "priya.shah@demo.nhs.uk", PASSWORD)
    content = (
        b"name,email,role,team,supervisor\n"
        b"Ada Admin,ada.admin@example.nhs.uk,practitioner,north,\n"
        b"Pat Prac,pat.prac@example.nhs.uk,practitioner;hr,north,\n"
        b"New Person,new.person@example.nhs.uk,practitioner,north,sue.super@example.nhs.uk\n"
    )
    _token, response = _preview(client, content)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert (
        "Row 2, column role: Only an administrator can change an administrator&#39;s account"
        in page
    )
    assert "Row 3, column role: Only an administrator can grant the role hr" in page
    assert "Row 4" not in page.split("nhsuk-error-summary__list")[1].split("</ul>")[0]
    assert _snapshot(app) == before


def test_hr_may_create_and_update_team_roles_and_reimport_an_unchanged_admin(
    app, client, organisation
):
    sign_in(client, "priya.shah@demo.nhs.uk", PASSWORD)
    content = (
        b"name,email,role,team,supervisor\n"
        b"Ada Admin,ada.admin@example.nhs.uk,admin,,\n"  # unchanged: allowed
        b"Pat Prac,pat.prac@example.nhs.uk,practitioner;recruiter,north,sue.super@example.nhs.uk\n"
        b"New Manager,new.manager@example.nhs.uk,manager;supervisor,north,\n"
    )
    token, response = _preview(client, content)
    assert response.status_code == 200, response.get_data(as_text=True)
    pending = re.search(r'name="token" value="([^"]+)"', response.get_data(as_text=True)).group(1)
    done = client.post("/admin/imports/apply", data={"csrf_token": token, "token": pending})
    assert done.status_code == 200
    with app.app_context():
        pat = services.user_by_email("pat.prac@example.nhs.uk")
        assert pat.role_set == {Role.PRACTITIONER, Role.RECRUITER}
        assert pat.session_version == 2  # their sessions ended with the role change
        assert services.supervisor_of(pat).email == "sue.super@example.nhs.uk"
        assert services.user_by_email("new.manager@example.nhs.uk").role_set == {
            Role.MANAGER,
            Role.SUPERVISOR,
        }
        assert services.user_by_email("ada.admin@example.nhs.uk").role_set == {Role.ADMIN}
        events = {e.action: e for e in db.session.scalars(select(AuditEvent))}
        assert events["staff_imported"].detail["created"] == 1
        assert events["staff_imported"].detail["updated"] == 2
        assert events["password_link_issued"].detail["count"] == 1
        changed = db.session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "roles_changed", AuditEvent.target == pat.email
            )
        )
        assert changed.detail == {
            "old": ["practitioner@north"],
            "new": ["practitioner@north", "recruiter@north"],
        }


def test_admin_import_cannot_remove_the_last_admin(app, client, organisation):
    before = _snapshot(app)
    sign_in(client, "ada.admin@example.nhs.uk", PASSWORD)
    content = b"name,email,role,team\nAda Admin,ada.admin@example.nhs.uk,hr,\n"
    _token, response = _preview(client, content)
    assert response.status_code == 400
    assert (
        "Row 2, column role: Ada Admin is the last active administrator: make someone else "
        "an administrator first" in response.get_data(as_text=True)
    )
    assert _snapshot(app) == before
    # the same file making someone else administrator at once is fine
    content += b"Pat Prac,pat.prac@example.nhs.uk,admin,\n"
    _token, response = _preview(client, content)
    assert response.status_code == 200, response.get_data(as_text=True)


def test_import_command_cannot_remove_the_last_admin(app, runner, organisation, tmp_path):
    before = _snapshot(app)
    path = tmp_path / "roster.csv"
    path.write_text("name,email,role,team\nAda Admin,ada.admin@example.nhs.uk,practitioner,north\n")
    result = runner.invoke(args=["import-staff", str(path)])
    assert result.exit_code == 2
    assert "row 2, column role: Ada Admin is the last active administrator" in result.output
    assert "nothing was imported" in result.output
    assert _snapshot(app) == before


def test_admin_form_services_refuse_hr(app, client, organisation):
    """The services behind the admin pages ask the rule whoever calls them."""
    before = _snapshot(app)
    with app.app_context():
        hr = services.user_by_email("priya.shah@demo.nhs.uk")
        admin = services.user_by_email("ada.admin@example.nhs.uk")
        pat = services.user_by_email("pat.prac@example.nhs.uk")
        refusals = [
            (
                lambda: services.set_roles(hr, [services.RoleGrant(Role.ADMIN, None)], hr),
                "Only an administrator can grant the role admin",
            ),
            (
                lambda: services.set_roles(admin, [services.RoleGrant(Role.HR, None)], hr),
                "Only an administrator can change an administrator's account",
            ),
            (
                lambda: services.set_active(admin, False, hr),
                "Only an administrator can change an administrator's account",
            ),
            (
                lambda: services.set_roles(pat, [services.RoleGrant(Role.HR, None)], hr),
                "Only an administrator can grant the role hr",
            ),
            (
                lambda: services.create_user(
                    "eve@example.nhs.uk",
                    "Eve",
                    PASSWORD,
                    [services.RoleGrant(Role.ADMIN, None)],
                    hr,
                ),
                "Only an administrator can grant the role admin",
            ),
        ]
        for change, message in refusals:
            with pytest.raises(services.AccountError, match=re.escape(message)):
                change()
            db.session.rollback()
    assert _snapshot(app) == before
    # and the pages themselves stay closed to HR
    sign_in(client, "priya.shah@demo.nhs.uk", PASSWORD)
    with app.app_context():
        admin_id = services.user_by_email("ada.admin@example.nhs.uk").id
    assert client.get(f"/admin/people/{admin_id}").status_code == 403


def test_last_admin_cannot_be_demoted_or_disabled(app, client, organisation):
    before = _snapshot(app)
    with app.app_context():
        admin = services.user_by_email("ada.admin@example.nhs.uk")
        for change in (
            lambda: services.set_roles(admin, [services.RoleGrant(Role.HR, None)], None),
            lambda: services.set_active(admin, False, None),
        ):
            with pytest.raises(services.AccountError, match="last active administrator"):
                change()
            db.session.rollback()
    assert _snapshot(app) == before
    # through the form: a second administrator may demote the first, then not the last
    with app.app_context():
        second = make_user("bo.admin", Role.ADMIN)
        commit()
        second_id = second.id
        first_id = services.user_by_email("ada.admin@example.nhs.uk").id
    sign_in(client, "bo.admin@example.nhs.uk", PASSWORD)
    ok = post_form(client, f"/admin/people/{first_id}", {"roles": ["hr"], "active": "y"})
    assert ok.status_code == 303
    refused = post_form(client, f"/admin/people/{second_id}", {"roles": ["hr"], "active": "y"})
    assert refused.status_code == 400
    assert "You cannot remove your own administrator role" in refused.get_data(as_text=True)
    with app.app_context():
        assert services.user_by_email("bo.admin@example.nhs.uk").role_set == {Role.ADMIN}
        admins = db.session.scalar(
            select(func.count())
            .select_from(RoleAssignment)
            .where(RoleAssignment.role == Role.ADMIN)
        )
        assert admins == 1


def test_create_user_command_goes_through_the_rule(app, runner, organisation):
    """The command line has an administrator's powers: it may create administrators, and
    it refuses a bad grant with exit 2 and nothing stored."""
    result = runner.invoke(
        args=["create-user", "second.admin@example.nhs.uk", "--name", "Second", "--role", "admin"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=["create-user", "x@example.nhs.uk", "--name", "X", "--role", "manager"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 2
    assert "Manager needs a team" in result.output
    with app.app_context():
        assert services.user_by_email("x@example.nhs.uk") is None
        assert services.user_by_email("second.admin@example.nhs.uk").role_set == {Role.ADMIN}
