"""What people type: a single-line value (a vacancy title, a person's, team's or
candidate's name) never holds a line break or another control character, and an email
address is an address only (`lay3<evil@attacker.example>` is refused) — at every form, the
roster import and the commands, with a message naming the field, row or option, and nothing
stored."""

from __future__ import annotations

import importlib
import inspect
import io
import pkgutil
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from wtforms import Form, PasswordField, StringField, TextAreaField

import competency_app
from competency_app.accounts import services as accounts
from competency_app.accounts.models import Role, Team, User
from competency_app.common.forms import AppForm, QueryForm
from competency_app.common.text import email_problem
from competency_app.extensions import db
from competency_app.recruitment import services as recruitment
from competency_app.recruitment.models import Candidate, Vacancy
from tests.conftest import csrf_from, post_form, sign_in
from tests.factories import PASSWORD, commit, make_user
from tests.recruitment.test_lifecycle import world  # noqa: F401 - its fixture, shared

HOSTILE_ADDRESS = "lay3<evil@attacker.example>"
BREAKS = ["Keyworker\r\nBcc: evil@attacker.example", "Keyworker\n", "Key\x1bworker", "Key\x85"]


def _form_classes() -> set[type]:
    for module in pkgutil.walk_packages(competency_app.__path__, "competency_app."):
        importlib.import_module(module.name)
    found, todo = set(), list(Form.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("competency_app."):
            found.add(cls)
    return found


def _text_fields(cls: type) -> list[str]:
    return [
        name
        for name, value in inspect.getmembers(cls)
        if hasattr(value, "field_class")
        and issubclass(value.field_class, StringField)
        and not issubclass(value.field_class, PasswordField)
    ]


def test_every_form_with_a_text_field_has_the_one_check():
    classes = _form_classes()
    assert len(classes) > 20
    unchecked = [
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in classes
        if _text_fields(cls) and not issubclass(cls, AppForm | QueryForm)
    ]
    assert unchecked == []


def test_single_line_fields_refuse_controls_and_textareas_keep_line_breaks(app):
    class Example(QueryForm):
        title = StringField("Post title")
        notes = TextAreaField("Notes")

    with app.test_request_context():
        fine = Example(MultiDict({"title": "Keyworker – Band 6", "notes": "one\r\n\ttwo"}))
        assert fine.validate(), fine.errors
        for value in BREAKS:
            form = Example(MultiDict({"title": value, "notes": ""}))
            assert not form.validate()
            assert form.errors["title"] == [
                "Post title: keep it on one line, without line breaks, tabs or control characters"
            ]
        form = Example(MultiDict({"title": "Keyworker", "notes": "one\x08two"}))
        assert not form.validate()
        assert form.errors["notes"][0].startswith("Notes: remove the control character")


@pytest.mark.parametrize(
    "address",
    [
        HOSTILE_ADDRESS,
        "Lay Three <lay3@example.org>",
        "lay3@example.org (Lay Three)",
        '"lay 3"@example.org',
        "lay3@example.org\r\nBcc: evil@attacker.example",
        "lay3@[192.0.2.1]",
        "lay3@example..org",
        "lay3@localhost",
    ],
)
def test_the_address_parser_refuses_anything_but_an_address(address):
    assert email_problem(address) is not None


@pytest.mark.parametrize(
    "address", ["pat.prac@example.nhs.uk", "o'neil+panel@nhs.net", "A.B@Example.ORG"]
)
def test_the_address_parser_takes_plain_addresses(address):
    assert email_problem(address) is None


@pytest.fixture
def ids(app, world):  # noqa: F811 - the recruitment fixture, by name
    """The recruitment tests' vacancy, with an administrator and an HR officer."""
    with app.app_context():
        make_user("ada.admin", Role.ADMIN)
        make_user("hana.hr", Role.HR)
        commit()
        return {
            "vacancy": world["vacancy"],
            "team": db.session.scalar(select(Team.id).where(Team.slug == "north")),
            "amy": accounts.user_by_email("amy.panel@example.nhs.uk").id,
            "bob": accounts.user_by_email("bob.panel@example.nhs.uk").id,
        }


def _client(app, local: str):
    client = app.test_client()
    sign_in(client, f"{local}@example.nhs.uk", PASSWORD)
    return client


def _counts(app) -> tuple[int, ...]:
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Vacancy, Candidate, User, Team)
        )


def _refused(response, message: str) -> None:
    page = response.get_data(as_text=True).replace("&#39;", "'").replace("&#34;", '"')
    assert response.status_code == 400, page[:1500]
    assert message in page, page[:3000]


def test_line_breaks_in_titles_and_names_are_refused_at_every_form(app, ids):
    before = _counts(app)
    rae, ada = _client(app, "rae.recruit"), _client(app, "ada.admin")
    page = f"/recruitment/{ids['vacancy']}"
    for value in BREAKS:
        vacancy = {
            "team": str(ids["team"]),
            "title": value,
            "closing_date": (date.today() + timedelta(days=9)).isoformat(),
            "shortlisters": [str(ids["amy"]), str(ids["bob"])],
            "interviewers": [str(ids["amy"]), str(ids["bob"])],
            "chair": str(ids["bob"]),
        }
        _refused(post_form(rae, "/recruitment/new", vacancy), "Post title: keep it on one line")
        token = csrf_from(rae.get(page).get_data(as_text=True))
        candidate = {"csrf_token": token, "name": value, "email": "cara@example.com"}
        _refused(rae.post(f"{page}/candidates", data=candidate), "Candidate's name: keep it")
        invite = {"csrf_token": token, "invite_name": value, "invite_email": "pat@example.org"}
        _refused(rae.post(f"{page}/panel", data=invite), "Panel member's full name: keep it")
        person = {"name": value, "email": "new.person@example.nhs.uk", "roles": "practitioner"}
        _refused(post_form(ada, "/admin/people/new", person), "Full name: keep it on one line")
        team = {"slug": "south", "name": value}
        _refused(post_form(ada, "/admin/teams", team), "Team name: keep it on one line")
    assert _counts(app) == before


def test_an_address_with_a_display_name_is_refused_at_every_form(app, ids):
    before = _counts(app)
    rae, ada = _client(app, "rae.recruit"), _client(app, "ada.admin")
    page = f"/recruitment/{ids['vacancy']}"
    token = csrf_from(rae.get(page).get_data(as_text=True))
    invite = {"csrf_token": token, "invite_name": "Lay Three", "invite_email": HOSTILE_ADDRESS}
    _refused(rae.post(f"{page}/panel", data=invite), "no name, angle brackets")
    candidate = {"csrf_token": token, "name": "Cara Candidate", "email": HOSTILE_ADDRESS}
    _refused(rae.post(f"{page}/candidates", data=candidate), "no name, angle brackets")
    person = {"name": "Lay Three", "email": HOSTILE_ADDRESS, "roles": "practitioner"}
    _refused(post_form(ada, "/admin/people/new", person), "no name, angle brackets")
    assert _counts(app) == before
    with app.app_context():
        assert accounts.user_by_email("evil@attacker.example") is None


def _import(client, text: str):
    token = csrf_from(client.get("/admin/imports").get_data(as_text=True))
    return client.post(
        "/admin/imports/preview",
        data={"csrf_token": token, "kind": "roster", "file": (io.BytesIO(text.encode()), "s.csv")},
        content_type="multipart/form-data",
    )


def test_the_roster_import_refuses_line_breaks_and_display_names_by_row_and_column(
    app, ids, runner, tmp_path
):
    before = _counts(app)
    hana = _client(app, "hana.hr")
    broken = 'name,email,role,team\n"Nia\r\nJones",nia@example.nhs.uk,practitioner,north\n'
    _refused(_import(hana, broken), "Row 2, column name: holds a line break")
    hostile = f'name,email,role,team\nLay Three,"{HOSTILE_ADDRESS}",practitioner,north\n'
    _refused(_import(hana, hostile), "no name, angle brackets")
    for text, message in [
        (broken, "Row 2, column name: holds a line break"),
        (hostile, "row 2, column email: not an email address"),
    ]:
        roster = tmp_path / "roster.csv"
        roster.write_text(text)
        result = runner.invoke(args=["import-staff", str(roster)])
        assert result.exit_code == 2, result.output
        assert message in result.output
    assert _counts(app) == before


def test_the_commands_refuse_line_breaks_in_names_and_display_names(app, ids, runner):
    before = _counts(app)
    for args, message in [
        (["create-user", "ann@example.nhs.uk", "--name", "Ann\nBcc: x"], "--name: Full name"),
        (["create-user", HOSTILE_ADDRESS, "--name", "Lay Three"], "EMAIL: Enter the email"),
        (["create-team", "south", "--name", "South\r\nteam"], "Error: Team name: keep it"),
    ]:
        extra = ["--role", "practitioner", "--team", "north", "--password", PASSWORD * 2]
        result = runner.invoke(args=args + (extra if args[0] == "create-user" else []))
        assert result.exit_code == 2, result.output
        assert message in result.output, result.output
    assert _counts(app) == before


def test_a_superscript_digit_is_refused_by_name_not_a_crash(app, ids):
    """`"²".isdigit()` is true and `int("²")` raises: numbers are read by one strict parse."""
    bob = _client(app, "bob.panel")  # manages the north team and sits on the panel
    coverage = bob.get("/teams/north/coverage?without=%C2%B2")
    assert coverage.status_code in (200, 400)
    assert "without must be the id of a member of this team" in coverage.get_data(as_text=True)
    with app.app_context():
        vacancy = db.session.get(Vacancy, ids["vacancy"])
        criteria = recruitment.interview_criteria(vacancy)
        path = f"/recruitment/{vacancy.id}/candidates/{vacancy.candidates[0].id}/interview"
    scores = {f"s-{c.key}": "3" for c in criteria} | {f"s-{criteria[0].key}": "²"}
    token = csrf_from(bob.get(path).get_data(as_text=True))
    response = bob.post(path, data={**scores, "action": "submit", "csrf_token": token})
    assert response.status_code == 400
    assert "Choose a score from the scale for" in response.get_data(as_text=True)
