"""Self-assessment and validation: the journey, illegal moves, concurrency, expiry, charts."""

from __future__ import annotations

import html
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from competency_app.accounts import services as accounts
from competency_app.accounts.models import Role, SupervisionLink
from competency_app.assessments import services
from competency_app.assessments.models import (
    Assessment,
    AssessmentEvent,
    CurrentRating,
    SelfRating,
    Status,
    ValidatedRating,
)
from competency_app.common import charts
from competency_app.coverage.models import StoredTeamFigures
from competency_app.extensions import db
from competency_app.framework.models import Skill
from tests.conftest import csrf_from, sign_in
from tests.factories import PASSWORD, commit, make_team, make_user


@pytest.fixture
def people(app, framework):
    with app.app_context():
        team = make_team("north")
        supervisor = make_user("sue.super", Role.SUPERVISOR, team=team)
        deputy = make_user("dee.deputy", Role.SUPERVISOR, team=team)
        make_user("pat.prac", Role.PRACTITIONER, team=team, supervisor=supervisor)
        make_user("oli.other", Role.SUPERVISOR, team=team)
        make_user("max.manager", Role.MANAGER, team=team)
        pat = accounts.user_by_email("pat.prac@example.nhs.uk")
        db.session.add(SupervisionLink(supervisor_id=deputy.id, supervisee_id=pat.id))
        commit()
    return "pat.prac@example.nhs.uk"


def user(email: str):
    return accounts.user_by_email(email if "@" in email else f"{email}@example.nhs.uk")


def rated_assessment(app, level_of=lambda i: 2, submit=True, reflect=True) -> int:
    """Start pat's assessment, rate every skill and reflect on every value with the
    service, optionally submit."""
    with app.app_context():
        pat = user("pat.prac")
        assessment = services.start_assessment(pat)
        for element in services.elements_of(assessment.framework_version):
            ratings = {
                s.id: (level_of(i), f"evidence {s.key}") for i, s in enumerate(element.skills)
            }
            services.save_element(assessment, pat, element, ratings, None)
        if reflect:
            texts = {v.id: f"I show {v.title}" for v in assessment.framework_version.values}
            services.save_reflections(assessment, pat, texts, None)
        if submit:
            services.submit(assessment, pat, None)
        commit()
        return assessment.id


def ready_to_sign_off(app, assessment_id: int, decisions=None, supervisor="sue.super") -> None:
    """Save the supervisor's judgement of every element (agree unless `decisions`) and an
    "evidenced" review of every value, through the services."""
    decisions = decisions or {}
    with app.app_context():
        assessment = db.session.get(Assessment, assessment_id)
        who = user(supervisor)
        for element in services.elements_of(assessment.framework_version):
            mine = {s.id: decisions[s.id] for s in element.skills if s.id in decisions}
            services.save_element_decisions(assessment, who, element, mine, None)
        reviews = {v.id: ("evidenced", "") for v in assessment.framework_version.values}
        services.review_values(assessment, who, reviews, None)
        commit()


def row_version(app, assessment_id: int) -> int:
    with app.app_context():
        return db.session.get(Assessment, assessment_id).row_version


def counts(app) -> tuple[int, ...]:
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (SelfRating, ValidatedRating, CurrentRating, AssessmentEvent)
        )


def form_post(client, page_path: str, post_path: str | None = None, data: dict | None = None):
    page = client.get(page_path).get_data(as_text=True)
    fields = dict(re.findall(r'name="(csrf_token|row_version)" value="([^"]*)"', page))
    return client.post(post_path or page_path, data={**fields, **(data or {})})


def test_keyworker_rates_over_pages_resumes_and_submits(app, client, people):
    sign_in(client, people, PASSWORD)
    token = csrf_from(client.get("/assessments").get_data(as_text=True))
    response = client.post("/assessments/start", data={"csrf_token": token})
    assert response.status_code == 303
    overview = response.headers["Location"]
    assessment_id = int(overview.rsplit("/", 1)[1])
    with app.app_context():
        version = db.session.get(Assessment, assessment_id).framework_version
        elements = services.elements_of(version)
        total = sum(len(e.skills) for e in elements)
        first = elements[0]
        skill_ids = [s.id for s in first.skills]
    # rate only the first skill of the first element, then leave
    path = f"/assessments/{assessment_id}/elements/{first.key}"
    response = form_post(client, path, data={f"level-{skill_ids[0]}": "1", "then": "overview"})
    assert response.status_code == 303
    page = client.get(overview).get_data(as_text=True)
    assert f"1 of {total} skills rated" in page
    # come back: the saved rating is still selected
    page = client.get(path).get_data(as_text=True)
    assert re.search(r'value="1"\s+checked|checked[^>]*value="1"', page)
    # submitting early is refused and changes nothing
    before = counts(app)
    response = form_post(
        client, f"/assessments/{assessment_id}/summary", f"/assessments/{assessment_id}/submit"
    )
    assert response.status_code == 409
    assert counts(app) == before
    # rate everything, element by element
    for element in elements:
        data = {f"level-{s.id}": "2" for s in element.skills}
        data[f"evidence-{element.skills[0].id}"] = "Led a CETR for a young person"
        response = form_post(
            client, f"/assessments/{assessment_id}/elements/{element.key}", data=data
        )
        assert response.status_code == 303
    page = client.get(overview).get_data(as_text=True)
    assert f"{total} of {total} skills rated" in page
    # "Save and continue" on the last element leads to the values step, not past it
    assert response.headers["Location"].endswith(f"/assessments/{assessment_id}/values")
    # every skill rated but no reflection yet: not ready to submit
    summary = client.get(f"/assessments/{assessment_id}/summary").get_data(as_text=True)
    assert "core values still to reflect on" in summary
    before = counts(app)
    response = form_post(
        client, f"/assessments/{assessment_id}/summary", f"/assessments/{assessment_id}/submit"
    )
    assert response.status_code == 409
    assert counts(app) == before
    with app.app_context():
        values = db.session.get(Assessment, assessment_id).framework_version.values
        value_ids, first_title = [v.id for v in values], values[0].title
    values_path = f"/assessments/{assessment_id}/values"
    # an empty form is refused, not "saved"
    response = form_post(client, values_path, data={})
    assert response.status_code == 400
    assert "saved" not in response.get_data(as_text=True)
    assert f"{first_title}: write how you show this value in your practice" in html.unescape(
        response.get_data(as_text=True)
    )
    # one reflection left empty: the others are saved (partial work), the submit refused
    data = {f"value-{v}": f"I show it ({v})" for v in value_ids}
    data[f"value-{value_ids[0]}"] = "   "
    response = form_post(client, values_path, data=data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(values_path)
    page = html.unescape(client.get(values_path).get_data(as_text=True))
    assert f"Still to write before you submit: {first_title}." in page
    assert f"I show it ({value_ids[-1]})" in page
    with app.app_context():
        state = services.progress(db.session.get(Assessment, assessment_id))
        assert (state.reflections, state.values) == (len(value_ids) - 1, len(value_ids))
    response = form_post(
        client, f"/assessments/{assessment_id}/summary", f"/assessments/{assessment_id}/submit"
    )
    assert response.status_code == 409
    with app.app_context():
        assert db.session.get(Assessment, assessment_id).status == Status.DRAFT
    data[f"value-{value_ids[0]}"] = "I listen to families before planning"
    response = form_post(client, values_path, data=data)
    assert response.status_code == 303
    response = form_post(
        client, f"/assessments/{assessment_id}/summary", f"/assessments/{assessment_id}/submit"
    )
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Assessment, assessment_id).status == Status.SUBMITTED


def test_bad_level_keeps_what_was_typed(app, client, people):
    assessment_id = rated_assessment(app, submit=False)
    sign_in(client, people, PASSWORD)
    with app.app_context():
        element = services.elements_of(db.session.get(Assessment, assessment_id).framework_version)[
            0
        ]
        skill = element.skills[0]
    before = counts(app)
    response = form_post(
        client,
        f"/assessments/{assessment_id}/elements/{element.key}",
        data={f"level-{skill.id}": "7", f"evidence-{skill.id}": "my typed evidence"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(r"1a skill 1: [^<]*: choose a level from the scale", page)
    assert "my typed evidence" in page
    assert counts(app) == before


def test_supervisor_adjusts_one_rating_and_signs_off(app, client, people):
    assessment_id = rated_assessment(app)
    sign_in(client, "sue.super@example.nhs.uk", PASSWORD)
    queue = client.get("/supervision").get_data(as_text=True)
    assert "Pat Prac" in queue
    with app.app_context():
        skill = db.session.scalar(
            select(Skill).where(Skill.key == "1a.s1").order_by(Skill.id.desc())
        )
    # a different level without a comment is refused, keeping the choice
    element_page = f"/supervision/{assessment_id}/elements/1a"
    response = form_post(client, element_page, data={f"level-{skill.id}": "1"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "1a skill 1: " in page and "add a comment" in page
    assert re.search(r'value="1"\s+selected|selected[^>]*value="1"', page)
    response = form_post(
        client,
        element_page,
        data={f"level-{skill.id}": "1", f"comment-{skill.id}": "Needs more evidence of advice"},
    )
    assert response.status_code == 303
    # signing off before every element is checked and every value reviewed is refused
    response = form_post(client, f"/supervision/{assessment_id}")
    assert response.status_code == 400
    assert "save your judgement of its skills" in response.get_data(as_text=True)
    with app.app_context():
        assessment = db.session.get(Assessment, assessment_id)
        elements = services.elements_of(assessment.framework_version)
        value_ids = [v.id for v in assessment.framework_version.values]
    for element in elements[1:]:
        path = f"/supervision/{assessment_id}/elements/{element.key}"
        assert form_post(client, path).status_code == 303
    # the saved judgement is kept when the element is opened again
    page = client.get(element_page).get_data(as_text=True)
    assert "Needs more evidence of advice" in page
    response = form_post(
        client,
        f"/supervision/{assessment_id}/values",
        data={f"outcome-{v}": "evidenced" for v in value_ids},
    )
    assert response.status_code == 303
    response = form_post(client, f"/supervision/{assessment_id}")
    assert response.status_code == 303
    with app.app_context():
        current = {r.skill_key: r.level for r in db.session.scalars(select(CurrentRating))}
        total = db.session.scalar(select(func.count()).select_from(ValidatedRating))
        actions = [
            e.action
            for e in db.session.scalars(select(AssessmentEvent).order_by(AssessmentEvent.id))
        ]
    assert current["1a.s1"] == 1
    assert set(current.values()) == {1, 2}
    assert total == len(current)
    assert actions == ["started", "submitted", "values reviewed", "validated"]


def test_illegal_moves_change_nothing(app, client, people):
    assessment_id = rated_assessment(app)
    before = counts(app)
    with app.app_context():
        element_key = services.elements_of(
            db.session.get(Assessment, assessment_id).framework_version
        )[0].key
    # the practitioner cannot edit after submission, nor validate their own
    sign_in(client, people, PASSWORD)
    path = f"/assessments/{assessment_id}/elements/{element_key}"
    token = csrf_from(client.get("/assessments").get_data(as_text=True))
    assert client.post(path, data={"csrf_token": token}).status_code == 409
    assert (
        client.post(f"/supervision/{assessment_id}", data={"csrf_token": token}).status_code == 403
    )
    # a supervisor who does not supervise pat cannot validate
    other = app.test_client()
    sign_in(other, "oli.other@example.nhs.uk", PASSWORD)
    token = csrf_from(other.get("/supervision").get_data(as_text=True))
    assert (
        other.post(f"/supervision/{assessment_id}", data={"csrf_token": token}).status_code == 403
    )
    assert other.get(f"/assessments/{assessment_id}").status_code == 403
    assert counts(app) == before
    # validating a draft is a 409
    with app.app_context():
        assessment = db.session.get(Assessment, assessment_id)
        services.return_assessment(assessment, user("sue.super"), "Add evidence", None)
        commit()
    before = counts(app)
    sue = app.test_client()
    sign_in(sue, "sue.super@example.nhs.uk", PASSWORD)
    token = csrf_from(sue.get("/supervision").get_data(as_text=True))
    assert sue.post(f"/supervision/{assessment_id}", data={"csrf_token": token}).status_code == 409
    assert counts(app) == before


def test_mass_assignment_is_ignored(app, client, people):
    assessment_id = rated_assessment(app, submit=False)
    sign_in(client, people, PASSWORD)
    with app.app_context():
        element = services.elements_of(db.session.get(Assessment, assessment_id).framework_version)[
            0
        ]
    response = form_post(
        client,
        f"/assessments/{assessment_id}/elements/{element.key}",
        data={"status": "validated", "person_id": "1", "validated_by_id": "1", "cycle": "9"},
    )
    assert response.status_code == 303
    with app.app_context():
        assessment = db.session.get(Assessment, assessment_id)
        assert assessment.status == Status.DRAFT and assessment.cycle == 1
        assert assessment.validated_by_id is None


def test_return_then_resubmit(app, client, people):
    assessment_id = rated_assessment(app)
    sue = app.test_client()
    sign_in(sue, "sue.super@example.nhs.uk", PASSWORD)
    response = form_post(
        sue,
        f"/supervision/{assessment_id}",
        f"/supervision/{assessment_id}/return",
        data={"return_comment": ""},
    )
    assert response.status_code == 400
    assert "Say what the practitioner should change" in response.get_data(as_text=True)
    response = form_post(
        sue,
        f"/supervision/{assessment_id}",
        f"/supervision/{assessment_id}/return",
        data={"return_comment": "Please add evidence for 4b"},
    )
    assert response.status_code == 303
    sign_in(client, people, PASSWORD)
    page = client.get(f"/assessments/{assessment_id}").get_data(as_text=True)
    assert "Please add evidence for 4b" in page
    response = form_post(
        client, f"/assessments/{assessment_id}/summary", f"/assessments/{assessment_id}/submit"
    )
    assert response.status_code == 303


def test_stale_form_gets_409_with_who_changed_it(app, client, people):
    assessment_id = rated_assessment(app, submit=False)
    sign_in(client, people, PASSWORD)
    with app.app_context():
        element = services.elements_of(db.session.get(Assessment, assessment_id).framework_version)[
            0
        ]
    path = f"/assessments/{assessment_id}/elements/{element.key}"
    page = client.get(path).get_data(as_text=True)
    fields = dict(re.findall(r'name="(csrf_token|row_version)" value="([^"]*)"', page))
    assert client.post(path, data=fields).status_code == 303  # first tab saves
    response = client.post(path, data=fields)  # second tab, same old row version
    assert response.status_code == 409
    assert "changed by Pat Prac" in response.get_data(as_text=True)


def test_two_supervisors_validate_at_once_one_wins(app, people):
    """Two real connections (two threads, two sessions): one 303, one 409, nothing lost."""
    assessment_id = rated_assessment(app)
    ready_to_sign_off(app, assessment_id)
    clients = []
    for email in ("sue.super@example.nhs.uk", "dee.deputy@example.nhs.uk"):
        client = app.test_client()
        sign_in(client, email, PASSWORD)
        page = client.get(f"/supervision/{assessment_id}").get_data(as_text=True)
        fields = dict(re.findall(r'name="(csrf_token|row_version)" value="([^"]*)"', page))
        clients.append((client, fields))
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def validate(client, fields):
        barrier.wait()
        statuses.append(client.post(f"/supervision/{assessment_id}", data=fields).status_code)

    threads = [threading.Thread(target=validate, args=pair) for pair in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [303, 409]
    with app.app_context():
        assessment = db.session.get(Assessment, assessment_id)
        skills = sum(len(e.skills) for e in services.elements_of(assessment.framework_version))
        assert db.session.scalar(select(func.count()).select_from(ValidatedRating)) == skills
        assert db.session.scalar(select(func.count()).select_from(CurrentRating)) == skills
        assert assessment.status == Status.VALIDATED


def test_validation_expires_after_the_validity_period(app, client, people):
    assessment_id = rated_assessment(app)
    with app.app_context():
        services.validate(db.session.get(Assessment, assessment_id), user("sue.super"), {}, None)
        commit()
        expires = db.session.scalar(select(func.min(CurrentRating.expires_at)))
    sign_in(client, people, PASSWORD)
    profile = f"/people/{_pat_id(app)}/profile"
    assert "Expired" not in client.get(profile).get_data(as_text=True)
    app.config["FROZEN_NOW"] = expires - timedelta(days=30)
    assert "Expires" in client.get(profile).get_data(as_text=True)
    app.config["FROZEN_NOW"] = expires + timedelta(days=1)
    page = client.get(profile).get_data(as_text=True)
    assert "Expired – reassess" in page
    assert "Reassessment due" in page
    from competency_app.assessments.profile import profile_of

    with app.app_context():
        lines = [line for e in profile_of(user("pat.prac")).elements for line in e.lines]
        assert all(line.counted_level is None for line in lines)
    assert expires.date() == (datetime.now(UTC) + timedelta(days=1)).date().replace(
        year=expires.year
    ) or expires > datetime.now(UTC) + timedelta(days=360)


def test_sign_off_writes_each_table_in_one_statement(app, people):
    """The sign-off's writes, counted at the driver: one statement a table (one multi-row
    INSERT of the history, not one per skill; one upsert of the projection; one UPDATE of
    the assessment), and every projected row pointing at its own history row."""
    assessment_id = rated_assessment(app)
    with app.app_context():
        assessment = db.session.get(Assessment, assessment_id)
        supervisor = user("sue.super")
        sent: list[str] = []

        def keep(_conn, _cursor, statement, _params, _context, _executemany):
            sent.append(" ".join(statement.split()))

        event.listen(db.engine, "before_cursor_execute", keep)
        try:
            skills = services.validate(assessment, supervisor, {}, None)
        finally:
            event.remove(db.engine, "before_cursor_execute", keep)
        commit()

        def starting(prefix: str) -> list[str]:
            return [s for s in sent if s.startswith(prefix)]

        assert skills > 1
        assert len(starting("INSERT INTO validated_rating")) == 1
        assert starting("INSERT INTO validated_rating")[0].count("), (") == skills - 1
        assert len(starting("INSERT INTO current_rating")) == 1
        assert len(starting("UPDATE assessment")) == 1
        writes = [s.split(" (")[0].split(" SET")[0].split(" WHERE")[0] for s in sent]
        assert sorted(w for w in writes if not w.startswith("SELECT")) == [
            "DELETE FROM validation_draft",
            "INSERT INTO assessment_event",
            "INSERT INTO audit_event",
            "INSERT INTO current_rating",
            "INSERT INTO notification",
            "INSERT INTO validated_rating",
            "UPDATE assessment",
            "UPDATE team",
        ]
        # Every read in one statement; the framework's structure is read once per process
        # (here the first time), never again for that version.
        structure = [s for s in sent if s.startswith("SELECT") and " AS anon_1, " not in s]
        assert len(sent) - len(structure) == 9
        assert not [s for s in sent if "supervision_link" in s and " AS anon_1, " not in s]
        # The team's stored figures: kept by a job once the sign-off has committed.
        assert db.session.scalar(select(func.count()).select_from(StoredTeamFigures)) >= 1
        pairs = db.session.execute(
            select(CurrentRating.rating_id, ValidatedRating.id)
            .join(ValidatedRating, ValidatedRating.id == CurrentRating.rating_id)
            .where(
                ValidatedRating.assessment_id == assessment_id,
                ValidatedRating.skill_key == CurrentRating.skill_key,
                ValidatedRating.person_id == CurrentRating.person_id,
                ValidatedRating.level == CurrentRating.level,
            )
        ).all()
        assert len(pairs) == skills


def _pat_id(app) -> int:
    with app.app_context():
        return user("pat.prac").id


def test_unchanged_chart_is_drawn_once(app, client, people):
    assessment_id = rated_assessment(app)
    sign_in(client, people, PASSWORD)
    path = f"/people/{_pat_id(app)}/profile-chart.svg"
    start = charts.draw_count
    first = client.get(path)
    assert first.status_code == 200 and first.mimetype == "image/svg+xml"
    assert client.get(path).data == first.data
    assert charts.draw_count == start + 1
    png = client.get(f"/people/{_pat_id(app)}/profile-chart.png")
    assert png.data.startswith(b"\x89PNG")
    assert charts.draw_count == start + 2
    with app.app_context():
        services.validate(db.session.get(Assessment, assessment_id), user("sue.super"), {}, None)
        commit()
    client.get(path)
    assert charts.draw_count == start + 3  # the data changed: drawn again
    assert client.get(f"/people/{_pat_id(app)}/profile-chart.gif").status_code == 404


def test_evidence_and_comments_are_escaped(app, client, people):
    payload = '<img src=x onerror="alert(1)">'
    with app.app_context():
        pat = user("pat.prac")
        assessment = services.start_assessment(pat)
        for element in services.elements_of(assessment.framework_version):
            ratings = {s.id: (2, payload) for s in element.skills}
            services.save_element(assessment, pat, element, ratings, None)
        services.save_reflections(
            assessment, pat, {v.id: payload for v in assessment.framework_version.values}, None
        )
        services.submit(assessment, pat, None)
        commit()
        assessment_id = assessment.id
    # the supervisor's pages show the evidence and the reflections, escaped
    sue = app.test_client()
    sign_in(sue, "sue.super@example.nhs.uk", PASSWORD)
    for path in [
        f"/supervision/{assessment_id}",
        f"/supervision/{assessment_id}/elements/1a",
        f"/supervision/{assessment_id}/values",
        f"/assessments/{assessment_id}/values",
    ]:
        page = sue.get(path).get_data(as_text=True)
        assert "&lt;img src=x" in page and payload not in page, path
    with app.app_context():
        assessment = db.session.get(Assessment, assessment_id)
        services.return_assessment(assessment, user("sue.super"), payload, None)
        commit()
    sign_in(client, people, PASSWORD)
    for path in [
        f"/assessments/{assessment_id}",
        f"/assessments/{assessment_id}/summary",
        f"/assessments/{assessment_id}/history",
        f"/assessments/{assessment_id}/values",
    ]:
        page = client.get(path).get_data(as_text=True)
        assert payload not in page, path


def _post_without_row_version(client, page_path: str, post_path: str, data: dict):
    """The page's CSRF token but no row_version: what a client skipping the lock sends."""
    token = csrf_from(client.get(page_path).get_data(as_text=True))
    return client.post(post_path, data={"csrf_token": token, **data})


def test_every_form_without_row_version_comes_back_and_saves_nothing(app, client, people):
    """Last-writer-wins is closed: a save that omits the version it was drawn from is
    refused with the form again ("reload and try again") and changes nothing."""
    draft_id = rated_assessment(app, submit=False)
    with app.app_context():
        assessment = db.session.get(Assessment, draft_id)
        element = services.elements_of(assessment.framework_version)[0]
        skill = element.skills[0]
        value = assessment.framework_version.values[0]
    sign_in(client, people, PASSWORD)
    element_path = f"/assessments/{draft_id}/elements/{element.key}"
    values_path = f"/assessments/{draft_id}/values"
    summary_path = f"/assessments/{draft_id}/summary"
    cases = [
        (element_path, element_path, {f"level-{skill.id}": "0", f"evidence-{skill.id}": "new"}),
        (values_path, values_path, {f"value-{value.id}": "my reflection"}),
        (summary_path, f"/assessments/{draft_id}/submit", {}),
    ]
    for page_path, post_path, data in cases:
        before, version = counts(app), row_version(app, draft_id)
        response = _post_without_row_version(client, page_path, post_path, data)
        page = response.get_data(as_text=True)
        assert response.status_code == 409, post_path
        assert "reload the page and try again" in page and "There is a problem" in page
        assert counts(app) == before and row_version(app, draft_id) == version, post_path
    # the typed evidence comes back in the form
    response = _post_without_row_version(
        client,
        element_path,
        element_path,
        {f"level-{skill.id}": "0", f"evidence-{skill.id}": "kept"},
    )
    assert "kept" in response.get_data(as_text=True)
    with app.app_context():
        rating = services.self_ratings_by_skill(db.session.get(Assessment, draft_id))[skill.id]
        assert (rating.level, rating.evidence) == (2, f"evidence {skill.key}")
        services.submit(db.session.get(Assessment, draft_id), user("pat.prac"), None)
        commit()
    # the supervisor's forms: validate and return
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    sign_in(client, "sue.super@example.nhs.uk", PASSWORD)
    validate_path = f"/supervision/{draft_id}"
    for post_path, data in [
        (validate_path, {f"level-{skill.id}": "3", f"comment-{skill.id}": "seen it"}),
        (f"/supervision/{draft_id}/return", {"return_comment": "add more"}),
    ]:
        before, version = counts(app), row_version(app, draft_id)
        response = _post_without_row_version(client, validate_path, post_path, data)
        assert response.status_code == 409, post_path
        assert "reload the page and try again" in response.get_data(as_text=True)
        assert counts(app) == before and row_version(app, draft_id) == version, post_path
    with app.app_context():
        assert db.session.get(Assessment, draft_id).status == Status.SUBMITTED
