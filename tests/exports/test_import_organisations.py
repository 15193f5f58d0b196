"""Imports per organisation: the people a roster creates are employed by the importer's
organisation; a row may place a person in a team of another organisation of the same
collaborative (a secondment) but of none outside it; no row changes a person employed by
another organisation; completions are imported for the importer's own people only; the
roster download lists the importer's organisation's people only."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from competency_app.accounts import services as accounts
from competency_app.accounts.models import AuditEvent, Organisation, Role
from competency_app.extensions import db
from competency_app.training.models import ModuleCompletion
from tests.conftest import csrf_from, preview_import, sign_in
from tests.factories import (
    PASSWORD,
    commit,
    make_collaborative,
    make_organisation,
    make_team,
    make_user,
)

HEADER = "name,email,role,team,supervisor\n"


@pytest.fixture
def region(app, framework):
    """A trust (the first organisation) hosting `north`; a charity in its collaborative with
    HR and a team `charity-team`; a trust in another collaborative hosting `far-team`."""
    with app.app_context():
        trust = accounts.default_organisation()
        trust.name = "North Trust"
        north = make_team("north", "North keyworking team", organisation=trust)
        make_user("trust.hr", Role.HR, organisation=trust)
        make_user("sue.super", Role.SUPERVISOR, team=north, organisation=trust)
        make_user("tom.trust", Role.PRACTITIONER, team=north, organisation=trust)
        charity = make_organisation("family-links")
        charity.name = "Family Links"
        make_team("charity-team", "Charity team", organisation=charity)
        make_user("cara.hr", Role.HR, organisation=charity)
        make_user("chris.charity", Role.PRACTITIONER, team=north, organisation=charity)
        elsewhere = make_collaborative("south-region", "South Region collaborative")
        far = make_organisation("far-trust", collaborative=elsewhere)
        far_team = make_team("far-team", "Far team", organisation=far)
        make_user("fay.far", Role.SUPERVISOR, team=far_team, organisation=far)
        commit()


def _apply(client, response) -> None:
    html = response.get_data(as_text=True)
    pending = re.search(r'name="token" value="([^"]+)"', html)
    assert pending, html
    token = csrf_from(html)
    done = client.post("/admin/imports/apply", data={"csrf_token": token, "token": pending[1]})
    assert done.status_code == 200, done.get_data(as_text=True)


def _employer(email: str) -> str:
    person = accounts.user_by_email(email)
    return db.session.get(Organisation, person.organisation_id).slug


def test_people_an_import_creates_are_employed_by_the_importers_organisation(app, client, region):
    """The charity's HR imports a new keyworker seconded into the trust's North team (same
    collaborative) and one into its own team: both employed by the charity; the audit
    events are in the charity's log."""
    sign_in(client, "cara.hr@example.nhs.uk", PASSWORD)
    rows = (
        "Sam Seconded,sam.seconded@example.org.uk,keyworker,north,sue.super@example.nhs.uk\n"
        "Cat Home,cat.home@example.org.uk,keyworker,charity-team,\n"
    )
    response = preview_import(client, "roster", HEADER + rows)
    assert response.status_code == 200, response.get_data(as_text=True)
    _apply(client, response)
    with app.app_context():
        charity = db.session.scalar(select(Organisation).where(Organisation.slug == "family-links"))
        for email in ("sam.seconded@example.org.uk", "cat.home@example.org.uk"):
            assert _employer(email) == "family-links"
        seconded = accounts.user_by_email("sam.seconded@example.org.uk")
        assert [(a.role, a.team.slug) for a in seconded.roles] == [(Role.PRACTITIONER, "north")]
        events = db.session.execute(
            select(AuditEvent.action, AuditEvent.organisation_id).where(
                AuditEvent.target.in_(
                    ["sam.seconded@example.org.uk", "cat.home@example.org.uk", "2 rows"]
                )
            )
        ).all()
        assert {action for action, _ in events} >= {"user_created", "staff_imported"}
        assert {log for _, log in events} == {charity.id}


def test_a_team_outside_the_collaborative_is_refused_by_row(app, client, region):
    sign_in(client, "cara.hr@example.nhs.uk", PASSWORD)
    rows = (
        "Good Row,good.row@example.org.uk,keyworker,charity-team,\n"
        "Far Away,far.away@example.org.uk,keyworker,far-team,\n"
    )
    response = preview_import(client, "roster", HEADER + rows)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Row 3, column team: there is no team &#39;far-team&#39; in" in html
    assert "Row 2, column team" not in html
    with app.app_context():
        assert accounts.user_by_email("good.row@example.org.uk") is None  # nothing applied


def test_a_supervisor_outside_the_collaborative_is_refused(app, client, region):
    sign_in(client, "cara.hr@example.nhs.uk", PASSWORD)
    row = "Pia,pia@example.org.uk,keyworker,charity-team,fay.far@example.nhs.uk\n"
    response = preview_import(client, "roster", HEADER + row)
    assert response.status_code == 400
    assert "Row 2, column supervisor: fay.far@example.nhs.uk is not a supervisor here" in (
        response.get_data(as_text=True)
    )


def test_an_import_may_not_change_a_person_employed_by_another_organisation(app, client, region):
    """The trust's HR renames the charity's secondee and moves them: refused on that row,
    naming the employer; the trust's own keyworker on the next row is fine; nothing is
    written."""
    sign_in(client, "trust.hr@example.nhs.uk", PASSWORD)
    rows = (
        "Chris Renamed,chris.charity@example.nhs.uk,keyworker,north,\n"
        "Tom Trust,tom.trust@example.nhs.uk,keyworker,north,\n"
    )
    response = preview_import(client, "roster", HEADER + rows)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert (
        "Row 2, column email: chris.charity@example.nhs.uk is employed by Family Links: "
        "only Family Links&#39;s HR or administrator can change them" in html
    )
    assert "Row 3" not in html
    with app.app_context():
        assert accounts.user_by_email("chris.charity@example.nhs.uk").name == "Chris Charity"

    # the charity's HR may change their own secondee (in the trust's team)
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    sign_in(client, "cara.hr@example.nhs.uk", PASSWORD)
    response = preview_import(client, "roster", HEADER + rows.splitlines()[0] + "\n")
    assert response.status_code == 200, response.get_data(as_text=True)
    _apply(client, response)
    with app.app_context():
        person = accounts.user_by_email("chris.charity@example.nhs.uk")
        assert person.name == "Chris Renamed" and _employer(person.email) == "family-links"


def test_completions_only_of_the_importers_own_people(app, client, region):
    sign_in(client, "cara.hr@example.nhs.uk", PASSWORD)
    with app.app_context():
        from competency_app.framework.services import current_version

        module = current_version().modules[0].key
    text = (
        "email,module,date\n"
        f"chris.charity@example.nhs.uk,{module},2026-01-05\n"
        f"tom.trust@example.nhs.uk,{module},2026-01-05\n"
    )
    response = preview_import(client, "completions", text)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Row 3, column email: tom.trust@example.nhs.uk is not employed by Family Links" in html
    assert "Row 2" not in html
    response = preview_import(client, "completions", "\n".join(text.splitlines()[:2]) + "\n")
    assert response.status_code == 200, response.get_data(as_text=True)
    _apply(client, response)
    with app.app_context():
        people = {
            accounts.user_by_email(e).id
            for e in ("chris.charity@example.nhs.uk", "tom.trust@example.nhs.uk")
        }
        done = db.session.scalars(
            select(ModuleCompletion.person_id).where(ModuleCompletion.person_id.in_(people))
        ).all()
        assert done == [accounts.user_by_email("chris.charity@example.nhs.uk").id]


def test_the_roster_download_lists_the_importers_organisation_only(app, client, region):
    sign_in(client, "cara.hr@example.nhs.uk", PASSWORD)
    response = client.get("/admin/imports/roster.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    emails = sorted(row[1] for row in sheet.iter_rows(min_row=2, values_only=True))
    assert emails == ["cara.hr@example.nhs.uk", "chris.charity@example.nhs.uk"]


def test_the_command_line_import_employs_people_in_the_first_organisation(app, region, tmp_path):
    path = tmp_path / "staff.csv"
    path.write_text(HEADER + "Dee Cli,dee.cli@example.nhs.uk,keyworker,north,\n")
    result = app.test_cli_runner().invoke(args=["import-staff", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert _employer("dee.cli@example.nhs.uk") == accounts.default_organisation().slug
