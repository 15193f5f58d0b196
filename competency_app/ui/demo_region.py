"""The demo's region: one collaborative of three employers.

An NHS trust hosts the North keyworking team (the demo's first team) and a South team; a
county council hosts its own team; a charity employs a keyworker seconded into the trust's
South team. Each organisation has an HR person, the council and the charity an
administrator; a regional lead (employed by the trust) sees the collaborative's figures and
an installation administrator creates collaboratives and organisations.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from competency_app.accounts import services as accounts
from competency_app.accounts.models import Collaborative, Organisation, Role, Team, User
from competency_app.extensions import db
from competency_app.framework.local_courses import CourseInput, add_local_course
from competency_app.framework.models import FrameworkVersion

COLLABORATIVE = ("north-region", "North Region Keyworking Collaborative")


@dataclass(frozen=True)
class DemoOrganisation:
    slug: str
    name: str
    domain: str
    short: str  # how the logins table names it


TRUST = DemoOrganisation(
    "north-region-nhs-trust", "North Region NHS Foundation Trust", "demo.nhs.uk", "Trust"
)
COUNCIL = DemoOrganisation(
    "northshire-council", "Northshire County Council", "northshire.demo.gov.uk", "Council"
)
CHARITY = DemoOrganisation("family-links", "Family Links", "familylinks.demo.org.uk", "Charity")
ORGANISATIONS = (TRUST, COUNCIL, CHARITY)
DEMO_DOMAINS = tuple(o.domain for o in ORGANISATIONS)

SOUTH_TEAM = ("south-keyworkers", "South keyworking team")
COUNCIL_TEAM = ("northshire-keyworkers", "Northshire council keyworking team")

# (name, email local part, role, organisation, team: "north", "south", "council" or None)
REGION_PEOPLE: list[tuple[str, str, Role, DemoOrganisation, str | None]] = [
    ("Rachel Adams", "rachel.adams", Role.REGIONAL_LEAD, TRUST, None),
    ("Ivan Rhodes", "ivan.rhodes", Role.INSTALLATION_ADMIN, TRUST, None),
    ("Olivia Grant", "olivia.grant", Role.MANAGER, TRUST, "south"),
    ("Helen Price", "helen.price", Role.HR, COUNCIL, None),
    ("Mark Owen", "mark.owen", Role.ADMIN, COUNCIL, None),
    ("Nadia Hussain", "nadia.hussain", Role.MANAGER, COUNCIL, "council"),
    ("Paul Green", "paul.green", Role.SUPERVISOR, COUNCIL, "council"),
    ("Wendy Clarke", "wendy.clarke", Role.HR, CHARITY, None),
    ("Yusuf Begum", "yusuf.begum", Role.ADMIN, CHARITY, None),
]
SOUTH_KEYWORKERS = [("Kiran Shah", "kiran.shah"), ("Leah Morris", "leah.morris")]
COUNCIL_KEYWORKERS = [
    ("Ruth Cole", "ruth.cole"),
    ("Simon Ward", "simon.ward"),
    ("Tara Singh", "tara.singh"),
    ("Umar Ali", "umar.ali"),
    ("Vicky Jones", "vicky.jones"),
]
# Employed by the charity, a keyworker in the trust's South team (Olivia Grant's).
SECONDEE = ("Zara Ahmed", "zara.ahmed")


def email_of(local: str, organisation: DemoOrganisation = TRUST) -> str:
    return f"{local}@{organisation.domain}"


def ensure_region() -> dict[str, Organisation]:
    """The collaborative and its three organisations (the trust first, so the command
    line's default organisation is the trust), by slug. Idempotent."""
    found = {
        o.slug: o
        for o in db.session.scalars(
            select(Organisation).where(Organisation.slug.in_([o.slug for o in ORGANISATIONS]))
        )
    }
    if len(found) == len(ORGANISATIONS):
        return found
    collaborative = db.session.scalar(
        select(Collaborative).where(Collaborative.slug == COLLABORATIVE[0])
    )
    if collaborative is None:
        collaborative = Collaborative(slug=COLLABORATIVE[0], name=COLLABORATIVE[1])
        db.session.add(collaborative)
    for demo in ORGANISATIONS:
        if demo.slug not in found:
            found[demo.slug] = Organisation(
                collaborative=collaborative,
                slug=demo.slug,
                name=demo.name,
                email_domains=demo.domain,
            )
            db.session.add(found[demo.slug])
    db.session.flush()
    return found


def ensure_team(slug: str, name: str, host: Organisation) -> Team:
    team = db.session.scalar(select(Team).where(Team.slug == slug))
    if team is None:
        team = accounts.create_team(slug, name, actor=None, organisation=host)
    return team


@dataclass
class Region:
    """The people the demo's history is written for, beyond the North team."""

    south_manager: User
    south_keyworkers: dict[str, User]
    council_supervisor: User
    council_keyworkers: dict[str, User]
    secondee: User


def create_region_people(
    password: str,
    organisations: dict[str, Organisation],
    north: Team,
    logins: list[tuple[str, str, str]],
) -> Region:
    """The people of the region outside the trust's North team's staff; appends their
    logins. Idempotent."""
    south = ensure_team(*SOUTH_TEAM, organisations[TRUST.slug])
    council_team = ensure_team(*COUNCIL_TEAM, organisations[COUNCIL.slug])
    teams = {"north": north, "south": south, "council": council_team}

    def person(
        name: str,
        local: str,
        roles: list[tuple[Role, str | None]],
        employer: DemoOrganisation,
        supervisor: User | None = None,
    ) -> User:
        email = email_of(local, employer)
        user = accounts.user_by_email(email)
        if user is None:
            grants = [accounts.RoleGrant(role, teams[t] if t else None) for role, t in roles]
            user = accounts.create_user(
                email,
                name,
                password,
                grants,
                actor=None,
                supervisor=supervisor,
                organisation=organisations[employer.slug],
            )
        label = " and ".join(role.label for role, _ in roles)
        if employer is not TRUST:
            label = f"{label}, {employer.short.lower()}"
        elif roles[0][1] == "south":
            label = f"{label}, South team"
        logins.append((label, name, email))
        return user

    staff: dict[str, User] = {}
    for name, local, role, employer, team in REGION_PEOPLE:
        roles = [(role, team)]
        if local == "olivia.grant":  # the South team's manager supervises it too
            roles.append((Role.SUPERVISOR, team))
        staff[local] = person(name, local, roles, employer)
    south_keyworkers = {
        local: person(name, local, [(Role.PRACTITIONER, "south")], TRUST, staff["olivia.grant"])
        for name, local in SOUTH_KEYWORKERS
    }
    council_keyworkers = {
        local: person(name, local, [(Role.PRACTITIONER, "council")], COUNCIL, staff["paul.green"])
        for name, local in COUNCIL_KEYWORKERS
    }
    secondee = person(*SECONDEE, [(Role.PRACTITIONER, "south")], CHARITY, staff["olivia.grant"])
    label, name, email = logins[-1]
    logins[-1] = ("Keyworker seconded from the charity to the South team", name, email)
    return Region(
        staff["olivia.grant"], south_keyworkers, staff["paul.green"], council_keyworkers, secondee
    )


def create_demo_local_courses(
    organisations: dict[str, Organisation], version: FrameworkVersion
) -> None:
    """A local course of the trust's, shared with the collaborative, and one of the
    council's for its own people, added by each one's HR."""
    courses = [
        (
            TRUST,
            "priya.shah",
            CourseInput(
                title="Keyworking induction day",
                description="A day with the trust's keyworking leads: the service's families, "
                "its partners and how referrals reach a keyworker. Run monthly at Riverside "
                "House; open to keyworkers of every organisation of the collaborative.",
                url="",
                duration="420",
                develops=["1a", "4a"],
                required=True,
                refresh_months="",
                shared=True,
            ),
        ),
        (
            COUNCIL,
            "helen.price",
            CourseInput(
                title="Education, health and care plans: the council's process",
                description="Two hours with the council's SEND team on how a plan is "
                "requested, written and reviewed, and where a keyworker helps a family.",
                url="https://northshire.demo.gov.uk/send/training",
                duration="120",
                develops=["4b", "3a.s1"],
                required=False,
                refresh_months="",
                shared=False,
            ),
        ),
    ]
    for demo, local, given in courses:
        hr = accounts.user_by_email(email_of(local, demo))
        if hr is not None:
            add_local_course(organisations[demo.slug], given, hr, version)
