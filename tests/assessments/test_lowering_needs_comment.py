"""Agreeing with a self-rating below the level validated before lowers it: a comment is
needed, as for any other change of level (issue 29)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from competency_app.assessments import services
from competency_app.assessments.models import Assessment, CurrentRating, ValidationDraft
from competency_app.extensions import db
from tests.assessments.test_workflow import (
    form_post,
    people,  # noqa: F401 - fixture
    rated_assessment,
    ready_to_sign_off,
    user,
)
from tests.conftest import sign_in
from tests.factories import PASSWORD, commit


def _validated_at_three_then_rated_two(app) -> tuple[int, list[int]]:
    first = rated_assessment(app, level_of=lambda i: 3)
    ready_to_sign_off(app, first)
    with app.app_context():
        services.sign_off(db.session.get(Assessment, first), user("sue.super"), None)
        commit()
    second = rated_assessment(app, level_of=lambda i: 2)
    with app.app_context():
        element = services.elements_of(db.session.get(Assessment, second).framework_version)[0]
        return second, [s.id for s in element.skills]


def _drafts(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ValidationDraft))


def test_agreeing_below_the_validated_level_asks_for_a_comment(app, client, people):  # noqa: F811
    assessment_id, skills = _validated_at_three_then_rated_two(app)
    sign_in(client, "sue.super@example.nhs.uk", PASSWORD)
    page = f"/supervision/{assessment_id}/elements/1a"
    shown = client.get(page).get_data(as_text=True)
    assert "a level below the one validated before" in shown
    # agree everywhere, one comment typed: refused, each other skill named, nothing stored
    response = form_post(client, page, data={f"comment-{skills[1]}": "Typed before the error"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "1a skill 1: " in body
    assert "add a comment to explain lowering the level from 3, validated before, to 2" in body
    assert f'id="comment-{skills[1]}-error"' not in body
    assert "Typed before the error" in body
    assert _drafts(app) == 0
    # a blank comment (spaces) is no comment
    response = form_post(client, page, data={f"comment-{s}": "   " for s in skills})
    assert response.status_code == 400
    assert _drafts(app) == 0
    # with a comment on each: saved, and the sign-off keeps the lower level and the comment
    response = form_post(
        client, page, data={f"comment-{s}": "Less hands-on this year" for s in skills}
    )
    assert response.status_code == 303
    assert _drafts(app) == len(skills)


def test_an_unchanged_or_higher_level_needs_no_comment(app, client, people):  # noqa: F811
    first = rated_assessment(app, level_of=lambda i: 1)
    ready_to_sign_off(app, first)
    with app.app_context():
        services.sign_off(db.session.get(Assessment, first), user("sue.super"), None)
        commit()
    second = rated_assessment(app, level_of=lambda i: 2)
    sign_in(client, "sue.super@example.nhs.uk", PASSWORD)
    response = form_post(client, f"/supervision/{second}/elements/1a")
    assert response.status_code == 303


def test_the_sign_off_service_refuses_a_lowering_without_a_comment(app, people):  # noqa: F811
    assessment_id, skills = _validated_at_three_then_rated_two(app)
    with app.app_context():
        assessment = db.session.get(Assessment, assessment_id)
        with pytest.raises(services.RatingError) as refused:
            services.validate(assessment, user("sue.super"), {}, None)
        assert "lowering the level from 3" in str(refused.value)
        db.session.rollback()
        levels = set(db.session.scalars(select(CurrentRating.level)))
    assert levels == {3}


def test_the_profile_is_summarised_by_element_with_each_skill_a_click_away(
    app,
    client,
    people,  # noqa: F811
):
    first = rated_assessment(app, level_of=lambda i: 2)
    ready_to_sign_off(app, first)
    with app.app_context():
        services.sign_off(db.session.get(Assessment, first), user("sue.super"), None)
        commit()
        pat = user("pat.prac")
        elements = services.elements_of(db.session.get(Assessment, first).framework_version)
        keys = [(e.key, len(e.skills)) for e in elements]
    sign_in(client, "pat.prac@example.nhs.uk", PASSWORD)
    page = client.get(f"/people/{pat.id}/profile").get_data(as_text=True)
    for key, size in keys:
        assert f'href="#element-{key}"' in page
        assert f'id="element-{key}"' in page
        assert f"{size} of {size} validated" in page
    # the skills are inside the closed expanders; the print layout opens them all
    assert page.count('<details class="nhsuk-details app-profile-element"') == len(keys)
    assert " open>" not in page
    printed = client.get(f"/people/{pat.id}/profile?print=1").get_data(as_text=True)
    assert printed.count(" open>") == len(keys)
