"""The organisation workbook read a batch of teams at a time gives the same sheets, cell for
cell, as reading every team on its own through `coverage_for_team`."""

from __future__ import annotations

import io
import random
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select, update

from competency_app.accounts.models import Role, RoleAssignment, Team, User
from competency_app.assessments.models import (
    Assessment,
    CurrentRating,
    ValueReview,
    ValueReviewOutcome,
)
from competency_app.clock import today as today_in_london
from competency_app.clock import utcnow
from competency_app.common import xlsx
from competency_app.exports import workbooks
from competency_app.exports.workbooks import build_workbook
from competency_app.extensions import db
from competency_app.framework.services import current_version
from competency_app.operations.scale import seed_scale
from competency_app.training.models import ModuleCompletion, TrainingAssignment
from competency_app.training.required import (
    ComplianceCounts,
    compliance_for,
    keyworker_teams,
    organisation_compliance_counts,
    organisation_keyworkers,
)
from tests.factories import commit, make_team, make_user, validated_assessment


@pytest.fixture
def organisation(app, framework):
    """Seven teams of keyworkers with four cycles of ratings, value sign-offs, completions
    (several on one day), assignments (open, late, done, cancelled), a keyworker in two
    teams, a leaver, a deactivated account and a team whose only keyworker has left."""
    with app.app_context():
        seed_scale(people=70, teams=6, cycles=4, seed=11)
        version = current_version()
        rng = random.Random(3)
        today = today_in_london()
        now = utcnow()
        small = make_team("small", "A small team")
        supervisor = make_user("sue.super", Role.SUPERVISOR, team=small)
        manager = make_user("max.manager", Role.MANAGER, team=small)
        for local, level in (("pat.prac", 2), ("kim.keyworker", 3), ("lee.learner", 1)):
            person = make_user(local, Role.PRACTITIONER, team=small, supervisor=supervisor)
            validated_assessment(person, supervisor, level=level)
        gone = make_team("gone", "Everyone has left")
        make_user("ola.leaver", Role.PRACTITIONER, team=gone)
        people = list(
            db.session.execute(
                select(User.id, RoleAssignment.team_id)
                .join(RoleAssignment, RoleAssignment.user_id == User.id)
                .where(RoleAssignment.role == Role.PRACTITIONER)
                .order_by(User.id)
            )
        )
        teams = sorted({team for _, team in people})
        # one keyworker in a second team
        first, first_team = people[0]
        other = next(team for team in teams if team != first_team)
        db.session.execute(
            insert(RoleAssignment),
            [{"user_id": first, "role": Role.PRACTITIONER, "team_id": other}],
        )
        # a leaver and a deactivated account in the seeded teams, and the gone team's one
        leaver = db.session.scalar(select(User.id).where(User.email == "ola.leaver@example.nhs.uk"))
        db.session.execute(
            update(User)
            .where(User.id.in_([people[5][0], leaver]))
            .values(leaving_date=today - timedelta(days=3))
        )
        db.session.execute(update(User).where(User.id == people[9][0]).values(active=False))
        modules = [m.key for m in version.modules]
        required = [m.key for m in version.modules if m.required]
        completions, assignments = [], []
        shared_day = today - timedelta(days=40)
        for index, (person, _team) in enumerate(people):
            for key in required:
                if rng.random() < 0.75:  # expiring, overdue, in date and on a shared day
                    ago = rng.choice((20, 40, 360, 700, 1200))
                    day = shared_day if ago == 40 else today - timedelta(days=ago)
                    completions.append((person, key, day))
            if index % 4 == 0:
                completions.append((person, rng.choice(modules), shared_day))
            if index % 3 == 0:
                assigned = now - timedelta(days=rng.choice((10, 60)))
                key = rng.choice(modules)
                assignments.append(
                    {
                        "person_id": person,
                        "module_key": key,
                        "due_on": today + timedelta(days=rng.choice((-5, 0, 5, 30))),
                        "element_key": rng.choice((None, "1a", "3b", "4c")),
                        "note": None,
                        "assigned_at": assigned,
                        "assigned_by_id": manager.id,
                        "cancelled_at": now if index % 9 == 0 else None,
                    }
                )
                if index % 2 == 0:
                    completions.append((person, key, today - timedelta(days=5)))
        unique = {(person, key, day) for person, key, day in completions}
        db.session.execute(
            insert(ModuleCompletion),
            [
                {
                    "person_id": person,
                    "module_key": key,
                    "completed_on": day,
                    "certificate_ref": f"C{person}-{key[-4:]}",
                    "recorded_at": now,
                    "recorded_by_id": manager.id,
                }
                for person, key, day in sorted(unique, key=lambda c: (c[2], -c[0], c[1]))
            ],
        )
        db.session.execute(insert(TrainingAssignment), assignments)
        # the supervisor's review of every value on some latest assessments: all evidenced
        # (the values sign-off), or one to discuss further (no sign-off)
        latest = db.session.execute(
            select(Assessment.id, Assessment.validated_at).where(Assessment.cycle == 4)
        ).all()
        reviews = [
            {
                "assessment_id": assessment,
                "value_id": value.id,
                "outcome": ValueReviewOutcome.DISCUSS
                if index % 5 == 0 and n == 0
                else ValueReviewOutcome.EVIDENCED,
                "reviewed_by_id": supervisor.id,
                "reviewed_at": at,
            }
            for index, (assessment, at) in enumerate(latest)
            if index % 2 == 0
            for n, value in enumerate(version.values)
        ]
        db.session.execute(insert(ValueReview), reviews)
        # validations about to lapse (at risk) and lapsed ("expired") for some people, and
        # value sign-offs that lapse within the warning period
        seeded = [person for person, _team in people]
        expiring = [person for person, team in people if team == teams[1]] + seeded[2::5]
        db.session.execute(
            update(CurrentRating)
            .where(CurrentRating.person_id.in_(expiring))
            .values(expires_at=now + timedelta(days=10))
        )
        db.session.execute(
            update(CurrentRating)
            .where(CurrentRating.person_id.in_(seeded[2::11]), CurrentRating.skill_key < "3")
            .values(expires_at=now - timedelta(days=1))
        )
        db.session.execute(
            update(Assessment)
            .where(Assessment.cycle == 4, Assessment.person_id.in_(seeded[::4]))
            .values(validated_at=now - timedelta(days=340))
        )
        commit()


def _sheets(content: bytes) -> dict[str, list[tuple]]:
    book = load_workbook(io.BytesIO(content))
    return {title: list(book[title].iter_rows(values_only=True)) for title in book.sheetnames}


def _same_day_unordered(rows: list[tuple]) -> tuple[list, list]:
    """The Completions sheet's rows, in order, each cut down to its team and day, and every
    row sorted: the team-by-team path lists a team's completions by day only (`ORDER BY
    completed_on`), so the order of one day's completions is whatever the database gives
    (on PostgreSQL, not the order of the people)."""
    return [(r[0], r[3]) for r in rows], sorted(rows, key=repr)


def _assert_same(got: dict[str, list[tuple]], expected: dict[str, list[tuple]]) -> None:
    assert list(got) == list(expected)
    for title, rows in expected.items():
        if title == "Completions":
            assert _same_day_unordered(got[title]) == _same_day_unordered(rows)
        else:
            assert got[title] == rows, title


def _build(monkeypatch, team_by_team: bool, batch: int):
    monkeypatch.setattr(workbooks, "BATCH_PEOPLE", batch)
    # members read a few teams at a time: 3 teams a read with the smaller batches; with the
    # largest, every team but one in the first read and the one over in a read of its own
    teams = len(keyworker_teams())
    monkeypatch.setattr(workbooks, "TEAMS_PER_READ", 3 if batch < 1000 else teams - 1)
    version = current_version(structure=True)
    steps: list[tuple[int, int]] = []
    export = build_workbook(
        keyworker_teams(),
        version,
        utcnow(),
        scope="Organisation",
        history=True,
        team_by_team=team_by_team,
        progress=lambda done, total: steps.append((done, total)),
    )
    return export, steps


@pytest.mark.parametrize("batch", [1, 25, 1000])
def test_organisation_workbook_read_in_batches_matches_team_by_team(
    app, organisation, monkeypatch, batch
):
    with app.app_context():
        one_by_one, steps = _build(monkeypatch, team_by_team=True, batch=batch)
        db.session.remove()
    with app.app_context():
        together, together_steps = _build(monkeypatch, team_by_team=False, batch=batch)
    expected = _sheets(one_by_one.content)
    _assert_same(_sheets(together.content), expected)
    assert together.rows == one_by_one.rows
    assert together_steps == steps
    # the data reached every kind of row
    for title in ("Compliance", "Required training", "Assigned training", "Completions"):
        assert len(expected[title]) > 1, title
    assert len(expected["Suggested"]) > 1
    assert {row[8] for row in expected["Assigned training"][1:]} >= {
        "Completed",
        "Due",
        "Overdue",
    }
    values = {row[2] for row in expected["Values"][1:]}
    assert len(values) == 2
    assert "expired" in {cell for row in expected["Coverage"][1:] for cell in row[3:]}
    assert {"gap", "at risk"} <= {row[4] for row in expected["Gaps"][1:]}
    assert "at risk" in {row[4] for row in expected["Gaps"][1:] if row[1] == "skill"}


def test_organisation_compliance_counted_in_chunks_matches_every_keyworker_loaded(
    app, organisation
):
    with app.app_context():
        version = current_version(structure=True)
        now = utcnow()
        expected = ComplianceCounts.of(
            compliance_for(organisation_keyworkers(now), version, today_in_london())
        )
        for chunk in (1, 7, 900):
            assert organisation_compliance_counts(version, now, chunk=chunk) == expected
        assert expected.people == len(organisation_keyworkers(now)) > 70 - 3
        assert sum(m.counts["overdue"] for m in expected.modules) > 0


def test_a_team_left_empty_is_written_alike(app, organisation, monkeypatch):
    with app.app_context():
        version = current_version(structure=True)
        teams = list(db.session.scalars(select(Team).where(Team.slug.in_(["gone", "small"]))))
        assert len(teams) == 2
        contents = [
            build_workbook(teams, version, utcnow(), "Organisation", team_by_team=flag).content
            for flag in (True, False)
        ]
    _assert_same(_sheets(contents[1]), _sheets(contents[0]))


def _cells(content: bytes) -> dict[str, list[tuple]]:
    """Every cell of every sheet with what it shows and how: value, type, number format,
    bold, fill and wrap."""
    book = load_workbook(io.BytesIO(content))
    return {
        title: [
            (
                cell.coordinate,
                cell.value,
                cell.data_type,
                cell.number_format,
                cell.font.b,
                cell.fill.fgColor.rgb,
                cell.alignment.wrap_text,
            )
            for row in book[title].iter_rows()
            for cell in row
        ]
        for title in book.sheetnames
    }


def test_rows_written_whole_match_openpyxl_writing_each_cell(app, organisation, monkeypatch):
    """`common/xlsx_rows.py` writes each row as one element; openpyxl's own path (a cell
    object and an element at a time) gives the very same cells, hostile text included:
    spaces at either end, markup characters, a carriage return, a formula kept as text."""
    hostile = {
        "lee.learner": "  Lee & <Learner>  ",
        "pat.prac": "Pat\r\nPractitioner",
        "kim.keyworker": "=SUM(A1:A2)",
    }
    with app.app_context():
        for local, name in hostile.items():
            db.session.execute(
                update(User).where(User.email == f"{local}@example.nhs.uk").values(name=name)
            )
        commit()
        whole, _ = _build(monkeypatch, team_by_team=False, batch=1000)
        monkeypatch.setattr(xlsx, "take_over", lambda sheet: None)
        each_cell, _ = _build(monkeypatch, team_by_team=False, batch=1000)
    got, expected = _cells(whole.content), _cells(each_cell.content)
    assert list(got) == list(expected)
    for title, cells in expected.items():
        assert got[title] == cells, title
    names = {row[1] for row in _sheets(whole.content)["Coverage"]}
    assert {"  Lee & <Learner>  ", "Pat\r\nPractitioner", "'=SUM(A1:A2)"} <= names
    assert sum(len(cells) for cells in got.values()) > 10_000
