"""`flask demo`: a re-run keeps the data, --reset starts afresh, other databases are refused."""

from __future__ import annotations

from flask_migrate import upgrade
from sqlalchemy import func, select

from competency_app import create_app
from competency_app.accounts import services as accounts
from competency_app.accounts.models import Role, Team, User
from competency_app.extensions import db
from competency_app.notifications.services import UNSENT_KEY
from competency_app.ui.demo import DOMAIN, KEYWORKERS, STAFF
from competency_app.ui.demo_region import (
    COUNCIL_KEYWORKERS,
    REGION_PEOPLE,
    SOUTH_KEYWORKERS,
)
from competency_app.ui.demo_retention import LEAVERS

# the trust's North team, its lay panel member, the rest of the region, the secondee and
# the North team's two leavers (their records past retention)
DEMO_PEOPLE = (
    len(KEYWORKERS)
    + len(STAFF)
    + 1
    + len(REGION_PEOPLE)
    + len(SOUTH_KEYWORKERS)
    + len(COUNCIL_KEYWORKERS)
    + 1
    + len(LEAVERS)
)
DEMO_TEAMS = 3  # the trust's North and South teams, the council's team


def _app_on(path):
    return create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})


def _counts(app) -> tuple[int, int]:
    with app.app_context():
        teams = db.session.scalar(select(func.count()).select_from(Team))
        people = db.session.scalar(select(func.count()).select_from(User))
        db.session.remove()
        return teams, people


def test_demo_reset_deletes_the_database_and_starts_afresh(tmp_path):
    path = tmp_path / "demo.sqlite3"
    demo = _app_on(path)
    runner = demo.test_cli_runner()
    first = runner.invoke(args=["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert _counts(demo) == (DEMO_TEAMS, DEMO_PEOPLE)
    with demo.app_context():
        accounts.create_team("west-keyworkers", "West keyworking team", actor=None)
        db.session.commit()
        db.session.remove()

    again = runner.invoke(args=["demo", "--no-serve"])  # a plain re-run keeps what is there
    assert again.exit_code == 0, again.output
    assert _counts(demo) == (DEMO_TEAMS + 1, DEMO_PEOPLE)

    declined = runner.invoke(args=["demo", "--reset", "--no-serve"], input="n\n")
    assert declined.exit_code == 1 and "start the demo afresh?" in declined.output
    assert _counts(demo) == (DEMO_TEAMS + 1, DEMO_PEOPLE)

    reset = runner.invoke(args=["demo", "--reset", "--yes", "--no-serve"])
    assert reset.exit_code == 0, reset.output
    assert "afresh?" not in reset.output  # --yes does not ask
    assert f"Deleted {path}" in reset.output and "Password for every demo login" in reset.output
    assert _counts(demo) == (DEMO_TEAMS, DEMO_PEOPLE)
    with demo.app_context():
        db.engine.dispose()


def test_demo_reset_refuses_a_database_with_real_people(tmp_path):
    path = tmp_path / "service.sqlite3"
    service = _app_on(path)
    with service.app_context():
        upgrade()
        team = accounts.create_team("north-keyworkers", "North keyworking team", actor=None)
        grant = accounts.RoleGrant(Role.PRACTITIONER, team)
        accounts.create_user("pat@trust.nhs.uk", "Pat", "a long enough passphrase", [grant], None)
        db.session.commit()
        db.session.remove()
    result = service.test_cli_runner().invoke(args=["demo", "--reset", "--yes", "--no-serve"])
    assert result.exit_code == 2
    assert "is not the demo's database" in result.output
    assert f"1 account(s) outside the demo (not @{DOMAIN}, " in result.output
    assert path.exists() and _counts(service) == (1, 1)
    with service.app_context():
        db.engine.dispose()


def test_demo_reset_refuses_a_file_that_is_not_this_applications(tmp_path):
    path = tmp_path / "other.sqlite3"
    path.write_bytes(b"not a database at all, but someone's file" * 100)
    result = _app_on(path).test_cli_runner().invoke(args=["demo", "--reset", "--yes"])
    assert result.exit_code == 2 and "Nothing was deleted" in result.output
    assert path.read_bytes().startswith(b"not a database")


def test_demo_refuses_postgresql():
    other = create_app(
        "testing", {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    )
    result = other.test_cli_runner().invoke(args=["demo", "--reset", "--yes"])
    assert result.exit_code == 2 and "SQLite only" in result.output


def test_the_demo_shows_validations_of_a_reworded_skill(tmp_path):
    """The demo loads a second version rewording one skill after the team's validations:
    the supervisor's pages and a keyworker's profile flag them; coverage still counts them
    (no `revalidate`)."""
    import html

    from tests.conftest import sign_in

    path = tmp_path / "demo.sqlite3"
    demo = _app_on(path)
    result = demo.test_cli_runner().invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "Framework version 2:" in result.output
    client = demo.test_client()
    sign_in(client, f"sam.taylor@{DOMAIN}", demo.config["DEMO_PASSWORD"])
    with demo.app_context():
        from competency_app.assessments.models import Assessment, Status

        farid = accounts.user_by_email(f"farid.rahman@{DOMAIN}")
        submitted = db.session.scalar(
            select(Assessment.id).where(
                Assessment.person_id == farid.id, Assessment.status == Status.SUBMITTED
            )
        )
        db.session.remove()
    page = html.unescape(client.get(f"/supervision/{submitted}").get_data(as_text=True))
    assert "Reworded skills: check these first" in page and "Earlier wording" in page
    page = html.unescape(client.get(f"/people/{farid.id}/profile").get_data(as_text=True))
    assert "Validated against earlier wording" in page
    page = client.get("/framework/versions/compare?from=1&to=2").get_data(as_text=True)
    assert "flagged, counted until their next review" in page
    with demo.app_context():
        db.engine.dispose()


def test_demo_prints_one_mail_line_links_on_its_port_and_the_lay_members_link(tmp_path):
    """37 unsent emails are one line (and a file), not 37; links carry --port; the lay
    panel member's set-password link is labelled under their row of the logins table."""
    demo = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
            "MAIL_ECHO": True,
            "PUBLIC_URL": "http://127.0.0.1:5000",  # DevelopmentConfig's
        },
    )
    demo.instance_path = str(tmp_path)
    result = demo.test_cli_runner().invoke(args=["demo", "--no-serve", "--port", "5077"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert not [line for line in lines if line.startswith("[mail not sent")]
    (summary,) = [line for line in lines if "emails not sent (no MAIL_SERVER)" in line]
    count = int(summary.split()[0])
    assert count > 20 and "Notifications" in summary
    written = (tmp_path / "demo-emails.txt").read_text(encoding="utf-8").splitlines()
    assert len(written) == count and str(tmp_path / "demo-emails.txt") in summary
    assert all("http://127.0.0.1:5077/" in line for line in written)
    assert "5000" not in "".join(written)
    lay_row = next(i for i, line in enumerate(lines) if line.endswith("chris.lewis@demo.nhs.uk"))
    label = lines[lay_row + 1]
    assert (
        "Panel invitation, set-password link (works once): http://127.0.0.1:5077/set-password/"
        in label
    )
    assert demo.config["PUBLIC_URL"] == "http://127.0.0.1:5077"
    # set up: emails of what people then do in the demo are printed again as they happen
    assert UNSENT_KEY not in demo.extensions
    with demo.app_context():
        db.engine.dispose()


def test_the_demo_is_one_collaborative_of_three_organisations(tmp_path):
    """A trust hosting two teams (the North team among them), a council with one team and
    a charity whose keyworker is seconded into the South team; every organisation has HR,
    the council and the charity an administrator; a regional lead and an installation
    administrator; the council's team has validated ratings that differ."""
    from competency_app.accounts.models import Collaborative, Organisation
    from competency_app.assessments.models import CurrentRating
    from competency_app.ui.demo_region import CHARITY, COUNCIL, SECONDEE, TRUST, email_of

    demo = _app_on(tmp_path / "demo.sqlite3")
    result = demo.test_cli_runner().invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    for local, organisation in [
        ("rachel.adams", TRUST),
        ("ivan.rhodes", TRUST),
        ("helen.price", COUNCIL),
        ("mark.owen", COUNCIL),
        ("wendy.clarke", CHARITY),
        ("yusuf.begum", CHARITY),
        (SECONDEE[1], CHARITY),
        ("morgan.reid", TRUST),
        ("priya.shah", TRUST),
    ]:
        assert email_of(local, organisation) in result.output
    with demo.app_context():
        (collaborative,) = db.session.scalars(select(Collaborative)).all()
        organisations = {o.slug: o for o in collaborative.organisations}
        assert set(organisations) == {TRUST.slug, COUNCIL.slug, CHARITY.slug}
        assert db.session.scalar(select(func.count()).select_from(Organisation)) == 3
        trust, council, charity = (organisations[o.slug] for o in (TRUST, COUNCIL, CHARITY))
        assert {t.slug for t in trust.teams} == {"north-keyworkers", "south-keyworkers"}
        assert [t.slug for t in council.teams] == ["northshire-keyworkers"]
        assert charity.teams == [] and charity.domains == [CHARITY.domain]
        secondee = accounts.user_by_email(email_of(SECONDEE[1], CHARITY))
        assert secondee.organisation_id == charity.id
        assert [(a.role, a.team.slug) for a in secondee.roles] == [
            (Role.PRACTITIONER, "south-keyworkers")
        ]

        def roles_in(organisation) -> set[Role]:
            people = db.session.scalars(select(User).where(User.organisation_id == organisation.id))
            return {a.role for person in people for a in person.roles}

        assert {Role.HR, Role.REGIONAL_LEAD, Role.INSTALLATION_ADMIN} <= roles_in(trust)
        assert {Role.HR, Role.ADMIN} <= roles_in(council)
        assert {Role.HR, Role.ADMIN} <= roles_in(charity)
        council_people = select(User.id).where(User.organisation_id == council.id)
        levels = db.session.scalars(
            select(CurrentRating.level).where(CurrentRating.person_id.in_(council_people))
        ).all()
        assert len(levels) > 50 and len(set(levels)) >= 3  # varied ratings
        morgan = accounts.user_by_email(f"morgan.reid@{DOMAIN}")
        assert morgan.organisation_id == trust.id
        db.session.remove()
    from tests.conftest import sign_in

    # every new login signs in and reaches their home page
    for local, organisation in [
        ("rachel.adams", TRUST),
        ("ivan.rhodes", TRUST),
        ("olivia.grant", TRUST),
        ("helen.price", COUNCIL),
        ("nadia.hussain", COUNCIL),
        ("wendy.clarke", CHARITY),
        (SECONDEE[1], CHARITY),
    ]:
        client = demo.test_client()
        signed_in = sign_in(client, email_of(local, organisation), demo.config["DEMO_PASSWORD"])
        assert signed_in.status_code in (302, 303), local
        assert client.get("/").status_code == 200, local
    with demo.app_context():
        db.engine.dispose()
