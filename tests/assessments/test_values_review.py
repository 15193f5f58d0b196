"""Reflections reach the supervisor; the supervisor's review of each value is saved and
audited; validation element by element keeps what was typed and detects concurrent edits."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from competency_app.accounts.models import AuditEvent
from competency_app.assessments import services
from competency_app.assessments.models import (
    Assessment,
    AssessmentEvent,
    ValidationDraft,
    ValueReview,
    ValueReviewOutcome,
)
from competency_app.extensions import db
from tests.assessments.test_workflow import (
    counts,
    form_post,
    people,
    rated_assessment,
    ready_to_sign_off,
    user,
)
from tests.conftest import sign_in
from tests.factories import PASSWORD

__all__ = ["people"]  # the fixture, shared with the workflow tests


def _values(app, assessment_id: int):
    with app.app_context():
        values = db.session.get(Assessment, assessment_id).framework_version.values
        return [(v.id, v.title) for v in values]


def test_the_supervisor_reads_the_reflections_everywhere(app, client, people):
    assessment_id = rated_assessment(app)
    sign_in(client, "sue.super@example.nhs.uk", PASSWORD)
    values = _values(app, assessment_id)
    for path in [
        f"/assessments/{assessment_id}/values",  # read-only for the supervisor, not a 403
        f"/assessments/{assessment_id}",
        f"/assessments/{assessment_id}/summary",
        f"/supervision/{assessment_id}",
        f"/supervision/{assessment_id}/values",
        f"/supervision/{assessment_id}/elements/1a",
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        page = html.unescape(response.get_data(as_text=True))
        for _value_id, title in values:
            assert f"I show {title}" in page, (path, title)
    # the read-only page has no form to change them
    page = client.get(f"/assessments/{assessment_id}/values").get_data(as_text=True)
    assert "Save reflections" not in page and "<textarea" not in page
    # the manager reads them too; someone in no relation to pat does not
    manager = app.test_client()
    sign_in(manager, "max.manager@example.nhs.uk", PASSWORD)
    assert manager.get(f"/assessments/{assessment_id}/values").status_code == 200
    before = counts(app)
    response = form_post(
        client, f"/assessments/{assessment_id}/values", data={f"value-{values[0][0]}": "mine"}
    )
    assert response.status_code == 403  # only pat writes pat's reflections
    assert counts(app) == before


def test_value_review_is_saved_and_audited(app, client, people):
    assessment_id = rated_assessment(app)
    values = _values(app, assessment_id)
    sign_in(client, "sue.super@example.nhs.uk", PASSWORD)
    path = f"/supervision/{assessment_id}/values"
    # discuss further needs a comment; an outcome is needed for each value; both kept
    data = {f"outcome-{v}": "evidenced" for v, _ in values}
    data[f"outcome-{values[1][0]}"] = "discuss"
    data[f"outcome-{values[3][0]}"] = ""
    data[f"note-{values[0][0]}"] = "Clear examples with two families"
    response = form_post(client, path, data=data)
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    summary = page[page.index("nhsuk-error-summary") :]
    assert summary.index(f"{values[1][1]}: say what to discuss further") < summary.index(
        f"{values[3][1]}: choose evidenced or discuss further"
    )
    assert "Clear examples with two families" in page
    assert re.search(rf'id="outcome-{values[1][0]}-2"[^>]*value="discuss"\s+checked', page)
    with app.app_context():
        assert not db.session.scalars(select(ValueReview)).all()
    data[f"outcome-{values[3][0]}"] = "evidenced"
    data[f"note-{values[1][0]}"] = "Talk through how respect shows in meetings"
    response = form_post(client, path, data=data)
    assert response.status_code == 303
    with app.app_context():
        reviews = {r.value_id: r for r in db.session.scalars(select(ValueReview))}
        assert len(reviews) == len(values)
        assert reviews[values[1][0]].outcome is ValueReviewOutcome.DISCUSS
        assert reviews[values[1][0]].comment == "Talk through how respect shows in meetings"
        assert reviews[values[0][0]].reviewed_by_id == user("sue.super").id
        audit = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "values_reviewed")
        ).one()
        assert audit.target == f"assessment:{assessment_id}"
        assert audit.detail["evidenced"] == len(values) - 1 and audit.detail["discuss"] == 1
        assert "Talk through" not in str(audit.detail)  # counts only, never the words
        assert db.session.scalars(
            select(AssessmentEvent).where(AssessmentEvent.action == "values reviewed")
        ).one()
    # the review shows beside the reflections, on the overview the keyworker sees too
    pat = app.test_client()
    sign_in(pat, people, PASSWORD)
    page = html.unescape(pat.get(f"/assessments/{assessment_id}").get_data(as_text=True))
    assert "Discuss further" in page and "Talk through how respect shows" in page
    # the keyworker cannot review their own reflections
    before = counts(app)
    assert form_post(pat, f"/assessments/{assessment_id}", path, data=data).status_code == 403
    assert counts(app) == before


def test_sign_off_needs_every_value_reviewed(app, client, people):
    assessment_id = rated_assessment(app)
    with app.app_context():
        assessment = db.session.get(Assessment, assessment_id)
        for element in services.elements_of(assessment.framework_version):
            services.save_element_decisions(assessment, user("sue.super"), element, {}, None)
        db.session.commit()
    sign_in(client, "sue.super@example.nhs.uk", PASSWORD)
    response = form_post(client, f"/supervision/{assessment_id}")
    assert response.status_code == 400
    assert "Core values: review each reflection" in html.unescape(response.get_data(as_text=True))
    ready_to_sign_off(app, assessment_id)
    assert form_post(client, f"/supervision/{assessment_id}").status_code == 303
    with app.app_context():
        assert not db.session.scalars(select(ValidationDraft)).all()  # drafts are spent


def test_element_pages_name_each_control_by_its_skill(app, client, people):
    """Accessible names say which skill: no "Level for skill 1" eight times over."""
    assessment_id = rated_assessment(app)
    sign_in(client, "sue.super@example.nhs.uk", PASSWORD)
    with app.app_context():
        assessment = db.session.get(Assessment, assessment_id)
        elements = [
            (e.key, e.display_label, len(e.skills))
            for e in services.elements_of(assessment.framework_version)
        ]
    for key, label, size in elements:
        page = html.unescape(
            client.get(f"/supervision/{assessment_id}/elements/{key}").get_data(as_text=True)
        )
        labels = [
            " ".join(re.sub(r"<[^>]+>", "", label).split())
            for label in re.findall(r"<label[^>]*>(.*?)</label>", page, flags=re.S)
        ]
        assert len(labels) == len(set(labels)), key
        assert any(
            text.startswith(f"Your judgement: level for {label} skill 1: ") for text in labels
        )
        assert any(text.startswith(f"Comment on {label} skill {size}: ") for text in labels)
        assert page.count("<select") == size  # this element only
    pat = app.test_client()
    sign_in(pat, people, PASSWORD)
    with app.app_context():
        services.return_assessment(
            db.session.get(Assessment, assessment_id), user("sue.super"), "more", None
        )
        db.session.commit()
    page = html.unescape(
        pat.get(f"/assessments/{assessment_id}/elements/1a").get_data(as_text=True)
    )
    assert "Evidence for 1a skill 2: " in " ".join(re.sub(r"<[^>]+>", "", page).split())


def test_validation_element_bad_input_and_concurrent_edits(app, people):
    assessment_id = rated_assessment(app)
    path = f"/supervision/{assessment_id}/elements/1a"
    with app.app_context():
        skill = (
            db.session.get(Assessment, assessment_id)
            .framework_version.competencies[0]
            .elements[0]
            .skills[1]
        )
    sue, dee = app.test_client(), app.test_client()
    sign_in(sue, "sue.super@example.nhs.uk", PASSWORD)
    sign_in(dee, "dee.deputy@example.nhs.uk", PASSWORD)
    # off the scale: refused, what was typed kept
    response = form_post(
        sue, path, data={f"level-{skill.id}": "9", f"comment-{skill.id}": "typed by sue"}
    )
    assert response.status_code == 400
    assert "typed by sue" in response.get_data(as_text=True)
    # two supervisors on the same page: the second save finds the first and stores nothing
    pages = [c.get(path).get_data(as_text=True) for c in (sue, dee)]
    fields = [
        dict(re.findall(r'name="(csrf_token|row_version)" value="([^"]*)"', p)) for p in pages
    ]
    first = sue.post(
        path, data={**fields[0], f"level-{skill.id}": "1", f"comment-{skill.id}": "from sue"}
    )
    assert first.status_code == 303
    second = dee.post(
        path, data={**fields[1], f"level-{skill.id}": "3", f"comment-{skill.id}": "from dee"}
    )
    assert second.status_code == 409
    assert "changed by Sue Super" in second.get_data(as_text=True)
    with app.app_context():
        draft = db.session.scalars(
            select(ValidationDraft).where(ValidationDraft.skill_id == skill.id)
        ).one()
        assert (draft.level, draft.comment) == (1, "from sue")
