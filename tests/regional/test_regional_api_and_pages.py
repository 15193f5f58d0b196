"""The regional pages and GET /api/v1/regional: for a regional lead only, their own
collaborative only, the answer as its schema says, and never a person's name or email."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

from competency_app.accounts import services as accounts
from competency_app.api.tokens import create_token
from competency_app.clock import utcnow
from competency_app.extensions import db
from competency_app.framework.services import current_version
from competency_app.regional import services
from competency_app.regional.schemas import RegionalOut
from competency_app.regional.workbook import SHEETS, build_regional_workbook
from tests.conftest import sign_in
from tests.factories import PASSWORD
from tests.regional.conftest import KEYWORKERS, LEAD, OTHER_LEAD

NORTH_TEAMS = {"Harbour team", "Hill team", "River team", "Empty team"}


def _client(app, email: str):
    client = app.test_client()
    sign_in(client, email, PASSWORD)
    return client


def _people_words() -> list[str]:
    """Every keyworker's and the supervisor's name and email as the factories make them."""
    words = []
    for local in [*KEYWORKERS, "sam.super"]:
        words += [local.replace(".", " ").title(), f"{local}@example.nhs.uk"]
    return words


def _no_person_in(text: str) -> None:
    for word in _people_words():
        assert word not in text, f"{word!r} appears"


def test_the_api_answers_a_lead_with_their_collaborative_only(app, region):
    client = _client(app, LEAD)
    response = client.get("/api/v1/regional")
    assert response.status_code == 200
    answer = response.json
    RegionalOut.model_validate(answer)  # exactly what the document promises
    assert answer["collaborative"]["slug"] == "north-region"
    teams = {t["name"] for o in answer["organisations"] for t in o["teams"]}
    assert teams == NORTH_TEAMS
    assert {o["slug"] for o in answer["organisations"]} == {
        "alpha-trust",
        "beta-trust",
        "delta-trust",
    }
    assert answer["counts"]["practitioners"] == 9
    assert "Faraway team" not in response.get_data(as_text=True)
    assert "gamma-trust" not in response.get_data(as_text=True)
    held = [t for s in answer["skills"] for t in s["teams"]]
    assert held and {t["name"] for t in held} <= NORTH_TEAMS
    assert [len(t["element_gaps"]) for t in answer["forecast"]["teams"]] == [4] * 4
    _no_person_in(response.get_data(as_text=True))
    # the other collaborative's lead sees theirs, nothing of this one
    other = _client(app, OTHER_LEAD).get("/api/v1/regional").json
    assert other["collaborative"]["slug"] == "south-region"
    assert {t["name"] for o in other["organisations"] for t in o["teams"]} == {"Faraway team"}


def test_the_api_refuses_everyone_else(app, region):
    for local in ("kw.0", "sam.super"):
        response = _client(app, f"{local}@example.nhs.uk").get("/api/v1/regional")
        assert response.status_code == 403
        assert response.json["error"] == "forbidden"
    assert app.test_client().get("/api/v1/regional").status_code == 401
    response = _client(app, LEAD).get("/api/v1/regional?team=harbour")
    assert response.status_code == 422 and response.json["field"] == "team"


def test_a_regional_leads_token_works(app, region):
    with app.app_context():
        secret = create_token(accounts.user_by_email(LEAD), "Power BI", 30).secret
        db.session.commit()
    response = app.test_client().get(
        "/api/v1/regional", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 200
    assert response.json["collaborative"]["slug"] == "north-region"


def test_the_openapi_document_describes_the_endpoint(app, region):
    document = _client(app, LEAD).get("/api/v1/openapi.json").json
    operation = document["paths"]["/api/v1/regional"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RegionalOut"
    }
    assert "RegionalTeam" in document["components"]["schemas"]
    assert "403" in operation["responses"]


def test_the_pages_show_figures_and_no_person(app, region):
    client = _client(app, LEAD)
    home = client.get("/").get_data(as_text=True)
    assert "Regional view" in home and 'href="/regional"' in home
    page = client.get("/regional")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for name in ("Harbour team", "Alpha Trust", "Beta Trust", "Delta Trust"):
        assert name in html
    assert "Faraway team" not in html and "Gamma Trust" not in html
    _no_person_in(html)
    links = re.findall(r'href="(/regional/skills/[^"]+)"', html)
    with app.app_context():
        regional = services.regional_figures(
            services.lead_collaborative(accounts.user_by_email(LEAD)),
            current_version(structure=True),
            utcnow(),
        )
        keys = [s.skill.key for s in regional.skills]
        too_few = [s.skill.key for s in regional.too_few]
    assert [link.rsplit("/", 1)[1] for link in links] == too_few
    for key in keys[:5] + too_few[:3]:
        skill_page = client.get(f"/regional/skills/{key}")
        assert skill_page.status_code == 200
        _no_person_in(skill_page.get_data(as_text=True))
    assert client.get("/regional/skills/no.such.skill").status_code == 404
    forecast = client.get("/regional/forecast")
    assert forecast.status_code == 200
    assert "in 90 days" in forecast.get_data(as_text=True)
    _no_person_in(forecast.get_data(as_text=True))
    # nobody else reaches them
    keyworker = _client(app, "kw.0@example.nhs.uk")
    for path in ("/regional", "/regional/forecast", f"/regional/skills/{keys[0]}"):
        assert keyworker.get(path).status_code == 403


def test_the_workbook_holds_figures_and_no_person(app, region):
    with app.app_context():
        collaborative = services.lead_collaborative(accounts.user_by_email(LEAD))
        version = current_version(structure=True)
        now = utcnow()
        regional = services.regional_figures(collaborative, version, now)
        forecast = services.regional_forecast(collaborative, version, now)
        export = build_regional_workbook(regional, forecast)
    book = load_workbook(io.BytesIO(export.content))
    assert book.sheetnames == list(SHEETS)
    cells = [
        str(cell)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
        if cell is not None
    ]
    _no_person_in("\n".join(cells))
    teams = book["Teams"]
    names = [row[1] for row in teams.iter_rows(min_row=2, values_only=True)]
    assert set(names) == NORTH_TEAMS
    skills = book["Skills"]
    header = next(skills.iter_rows(max_row=1, values_only=True))
    assert list(header[5:]) == [row.team.name for row in regional.teams]
    rows = skills.iter_rows(min_row=2, values_only=True)
    for row, spread in zip(rows, regional.skills, strict=True):
        assert row[0] == spread.skill.key and row[2] == spread.holders
        held = {h.team.name: h.holders for h in spread.teams}
        assert list(row[5:]) == [held.get(r.team.name, 0) for r in regional.teams]
    forecast_rows = list(book["Forecast"].iter_rows(min_row=2, values_only=True))
    assert len(forecast_rows) == 4 and all(len(r) == 10 for r in forecast_rows)
    vacancies = {r[1]: r[-1] for r in book["Vacancies"].iter_rows(min_row=2, values_only=True)}
    assert vacancies["Harbour team"] == 3
