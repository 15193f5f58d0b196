"""The workbooks' training sheets count completions as the compliance pages do: a completion
dated after today (stored before such dates were refused) counts nowhere, so an earlier
in-date completion of the same module still stands, in both the team's and the
organisation's workbook."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from competency_app.accounts.models import Role, Team, User
from competency_app.clock import today as today_in_london
from competency_app.clock import utcnow
from competency_app.exports.services import export_organisation, export_team
from competency_app.extensions import db
from competency_app.framework.services import current_version
from competency_app.training.models import ModuleCompletion
from competency_app.training.required import compliance_for, required_modules
from tests.factories import commit, make_team, make_user


@pytest.fixture
def trained(app, framework):
    """A keyworker who completed a required module 30 days ago, with a row of the same
    module dated ten days ahead stored directly, as an older release let it be."""
    with app.app_context():
        team = make_team("north", "North keyworking team")
        recorder = make_user("max.manager", Role.MANAGER, team=team)
        person = make_user("pat.prac", Role.PRACTITIONER, team=team)
        module = required_modules(current_version(structure=True))[0]
        today = today_in_london()
        for offset in (-30, 10):
            db.session.add(
                ModuleCompletion(
                    person_id=person.id,
                    module_key=module.key,
                    completed_on=today + timedelta(days=offset),
                    recorded_at=utcnow(),
                    recorded_by_id=recorder.id,
                )
            )
        commit()
        return {"team": team.id, "person": person.id, "module": module.title}


def _required_row(content: bytes, title: str) -> tuple:
    sheet = load_workbook(io.BytesIO(content))["Required training"]
    rows = [row for row in sheet.iter_rows(values_only=True) if row[2] == title]
    assert len(rows) == 1, rows
    return rows[0]


def _day(cell):
    return cell.date() if cell is not None else None


def test_a_completion_dated_after_today_does_not_hide_an_earlier_one(app, trained):
    with app.app_context():
        team = db.session.get(Team, trained["team"])
        person = db.session.get(User, trained["person"])
        version = current_version(structure=True)
        today = today_in_london()
        page = next(
            s
            for s in compliance_for([person], version, today).standings
            if s.module.title == trained["module"]
        )
        assert page.completed_on == today - timedelta(days=30)
        for content in (
            export_team(team, None, "test").content,
            export_organisation(None, "test").content,
        ):
            row = _required_row(content, trained["module"])
            assert (_day(row[3]), _day(row[4]), row[5]) == (
                page.completed_on,
                page.expires_on,
                page.label,
            )
