"""Criteria on the vacancy's shortlisting column and the moderation page: the short form
with the full text on demand, never cut short alone (issue 29: cut at about 45 characters)."""

from __future__ import annotations

import html

from competency_app.recruitment import services
from tests.factories import commit
from tests.recruitment.test_lifecycle import (
    _all_met,
    _client,
    _post,
    _vacancy,
    user,
    world,  # noqa: F401 - fixture
)


def _shortlisting_cell(page: str) -> str:
    start = page.index("Shortlisters disagree on")
    return page[start : page.index("</td>", start)]


def test_a_disputed_criterion_is_shown_in_full_on_demand(app, world):  # noqa: F811
    with app.app_context():
        vacancy = _vacancy()
        candidate = vacancy.candidates[0]
        long = next(
            c
            for c in services.shortlist_criteria(vacancy)
            if c.requirement == "essential" and services.short_title(c) != c.full_text
        )
        services.save_shortlist(candidate, user("amy.panel"), _all_met(vacancy))
        services.save_shortlist(
            candidate, user("bob.panel"), {**_all_met(vacancy), long.key: (False, None)}
        )
        commit()
        full, short = long.full_text, services.short_title(long)
        vacancy_id, candidate_id = vacancy.id, candidate.id
    page = _client(app, "rae.recruit").get(f"/recruitment/{vacancy_id}").get_data(as_text=True)
    cell = html.unescape(_shortlisting_cell(page))
    assert short in cell and full in cell
    assert '<details class="nhsuk-details' in cell  # the full text on demand
    # once moderated, the decision and the full text, on the vacancy and moderation pages
    chair = _client(app, "bob.panel")
    path = f"/recruitment/{vacancy_id}/candidates/{candidate_id}/moderate"
    reason = {f"m-{long.key}": "met", f"r-{long.key}": "Clear <b>in</b> the statement"}
    assert _post(chair, path, path, reason).status_code == 303
    page = _client(app, "rae.recruit").get(f"/recruitment/{vacancy_id}").get_data(as_text=True)
    start = page.index("Moderated:")
    moderated = page[start : page.index("</td>", start)]
    assert "Clear &lt;b&gt;in&lt;/b&gt; the statement" in moderated
    assert f"{short}: met — " in html.unescape(moderated)
    assert full in html.unescape(moderated)
