"""Forms per feature: refusals from the service shown beside their fields in page order,
one answer to an expired form, and one transaction per request or command."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from competency_app.accounts.models import Team
from competency_app.assessments import services
from competency_app.assessments.models import Assessment
from competency_app.database import unit_of_work
from competency_app.extensions import db
from tests.assessments.test_workflow import counts, form_post, people, rated_assessment
from tests.conftest import sign_in
from tests.factories import PASSWORD, make_team

__all__ = ["people"]  # the fixture, shared with the workflow tests


def test_service_refusals_come_back_beside_their_fields_in_page_order(app, client, people):
    assessment_id = rated_assessment(app)
    with app.app_context():
        elements = services.elements_of(db.session.get(Assessment, assessment_id).framework_version)
        element = elements[0]
        first, last = element.skills[0], element.skills[-1]
        names = services.skill_names(element)
        first_label, last_label = names[first.id], names[last.id]
    sign_in(client, "sue.super@example.nhs.uk", PASSWORD)
    before = counts(app)
    # the first skill off the scale, the last changed without a comment: both are the
    # service's rules, reported together and in the order of the page (a summary sorted by
    # field name would put the later "comment-" field before the earlier "level-" one)
    response = form_post(
        client,
        f"/supervision/{assessment_id}/elements/{element.key}",
        data={f"level-{first.id}": "9", f"level-{last.id}": "1", f"comment-{first.id}": "kept"},
    )
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    start = page.index("nhsuk-error-summary")
    summary = page[start : page.index("</ul>", start)]
    off_scale = f"{first_label}: choose a level from the scale"
    no_comment = f"{last_label}: add a comment to explain the different level"
    assert summary.index(off_scale) < summary.index(no_comment)
    assert f'href="#level-{first.id}"' in summary and f'href="#comment-{last.id}"' in summary
    assert "kept" in page  # what was typed comes back
    assert counts(app) == before


def test_a_post_without_its_token_is_the_expired_form_page(app, client, people):
    sign_in(client, people, PASSWORD)
    response = client.post("/assessments/start", data={})
    assert response.status_code == 400
    assert "The form has expired: go back and try again." in response.get_data(as_text=True)


def test_unit_of_work_commits_at_the_end_and_rolls_back_on_error(app):
    with app.app_context():
        with pytest.raises(RuntimeError), unit_of_work():
            make_team("rolled-back")
            raise RuntimeError("refused after a flush")
        with unit_of_work():
            make_team("kept")
    with app.app_context():
        slugs = set(db.session.scalars(select(Team.slug)))
    assert slugs == {"kept"}
