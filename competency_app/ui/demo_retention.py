"""The demo's records past their retention period, so HR's retention review has work to
show: a keyworker who left seven years ago (the whole record is due), one who left fourteen
months ago (their notifications are due, the rest is kept) and a vacancy that closed
fourteen months ago (its candidates are due)."""

from __future__ import annotations

from datetime import timedelta

from competency_app.accounts import services as accounts
from competency_app.accounts.models import Organisation, Role, Team, User
from competency_app.clock import today
from competency_app.notifications.catalogue import ASSESSMENT_VALIDATED, SELF_ASSESSMENT_DUE
from competency_app.notifications.services import notify
from competency_app.recruitment import services as recruitment

LEAVERS = (
    # name, sign-in address (local part), days since they started, days since they left
    ("Sam Carter", "sam.carter", 12 * 365, 7 * 365 + 30),
    ("Morgan Lee", "morgan.lee", 5 * 365, 430),
)
OLD_VACANCY = "Keyworker (band 5), last year's round"


def create_demo_retention(
    team: Team,
    organisation: Organisation,
    people: tuple[User, User, User],  # recruiter, supervisor, manager
    domain: str,
    password: str,
) -> None:
    recruiter, supervisor, manager = people
    day = today()
    for name, local, started, left in LEAVERS:
        email = f"{local}@{domain}"
        if accounts.user_by_email(email) is not None:
            continue
        person = accounts.create_user(
            email,
            name,
            password,
            [accounts.RoleGrant(Role.PRACTITIONER, team)],
            actor=None,
            organisation=organisation,
        )
        accounts.set_start_date(person, day - timedelta(days=started), None)
        accounts.set_leaving_date(person, day - timedelta(days=left), None)
        accounts.set_active(person, False, None)
        for kind in (SELF_ASSESSMENT_DUE, ASSESSMENT_VALIDATED):
            notify(person.id, kind, "demo", day - timedelta(days=left + 30), "/", cycle="1")
    panel = ([supervisor, manager], [supervisor, manager], manager, recruiter)
    vacancy = recruitment.create_vacancy(team, OLD_VACANCY, day + timedelta(days=21), *panel)
    for candidate in ("Robin Hale", "Jamie Fox"):
        recruitment.add_candidate(vacancy, candidate, "", recruiter)
    recruitment.move_vacancy(vacancy, "closed", recruiter)
    vacancy.closing_date = day - timedelta(days=430)
