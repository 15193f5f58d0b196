"""The revision that marks roles from groups finds those given before it in the audit log."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from competency_app.accounts import services
from competency_app.accounts.models import Role, RoleAssignment, User
from competency_app.extensions import db
from tests.factories import commit, make_team, make_user

BEFORE = "f2c8d6a4b913"  # the head before role_assignment.from_group


def changed(actor: str, email: str, old: list[str], new: list[str]) -> None:
    services.record("roles_changed", None, target=email, old=old, new=new, actor_label=actor)


def test_roles_given_by_a_sign_in_before_the_revision_are_marked_as_the_groups(app):
    with app.app_context():
        north = make_team("north")
        mo = make_user("mo.mapped", Role.PRACTITIONER, team=north)
        sue = make_user("sue.super", Role.SUPERVISOR, team=north)
        for person in (mo, sue):
            person.roles.append(RoleAssignment(role=Role.MANAGER, team=north))
        # Mo's manager role came from a sign-in; Sue's too, but an administrator gave it
        # again after the groups had taken it away
        mo_old = ["practitioner@north"]
        changed("sso", mo.email, mo_old, ["manager@north", *mo_old])
        sue_old = ["supervisor@north"]
        changed("sso", sue.email, sue_old, ["manager@north", *sue_old])
        changed("sso", sue.email, ["manager@north", *sue_old], sue_old)
        changed("ada.admin@example.nhs.uk", sue.email, sue_old, ["manager@north", *sue_old])
        commit()
        db.session.remove()
        try:
            downgrade(revision=BEFORE)
        finally:
            upgrade()
        marked = {
            (a.user.email, a.role.value): a.from_group
            for a in db.session.scalars(select(RoleAssignment).join(User))
        }
        db.session.remove()
    assert marked == {
        ("mo.mapped@example.nhs.uk", "practitioner"): False,
        ("mo.mapped@example.nhs.uk", "manager"): True,
        ("sue.super@example.nhs.uk", "supervisor"): False,
        ("sue.super@example.nhs.uk", "manager"): False,
    }
