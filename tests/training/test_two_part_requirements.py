"""A required item made of parts, and completions stored with a date in the future.

The Oliver McGowan training for people who give care and support (Tier 2) is the e-learning
and then the one-day face-to-face training, refreshed together: the keyworking file makes
the day a part of the required item, so the e-learning alone is not compliant. A completion
dated after today (stored before such dates were refused) never counts and is shown for
correction."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime

from competency_app.accounts.models import Role, User
from competency_app.extensions import db
from competency_app.framework.services import current_version
from competency_app.training import required
from competency_app.training.models import ModuleCompletion
from tests.factories import commit, make_team, make_user
from tests.training.test_training import client_of, hand_months, page

NOW = datetime(2026, 6, 15, 11, 0, tzinfo=UTC)
OLIVER = "module.oliver-mcgowan"
DAY = "module.oliver-mcgowan-tier2-day"


def _text(markup: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup)))


def _completed(person: User, key: str, day: date) -> None:
    """A stored completion, as an import or the form wrote it (future dates included, as
    before they were refused)."""
    db.session.add(
        ModuleCompletion(
            person_id=person.id,
            module_key=key,
            completed_on=day,
            recorded_at=NOW,
            recorded_by_id=person.id,
        )
    )


def _oliver(pat_id: int) -> required.Standing:
    version = current_version()
    pat = db.session.get_one(User, pat_id)
    return next(s for s in required.person_standings(pat, version) if s.module.key == OLIVER)


def _team(app) -> int:
    app.config["FROZEN_NOW"] = NOW
    with app.app_context():
        north = make_team("north", "North team")
        make_user("max.manager", Role.MANAGER, team=north)
        pat = make_user("pat.prac", Role.PRACTITIONER, team=north)
        commit()
        return pat.id


def test_two_part_elearning_alone_is_not_compliant_both_in_date_is(app, framework):
    pat_id = _team(app)
    elearning = date(2025, 9, 1)
    with app.app_context():
        _completed(db.session.get_one(User, pat_id), OLIVER, elearning)
        commit()
        standing = _oliver(pat_id)
        assert standing.has_parts
        assert [p.module.key for p in standing.parts] == [OLIVER, DAY]
        assert (standing.status, standing.compliant, standing.completed_on) == ("due", False, None)
        assert [p.status for p in standing.parts] == ["in_date", "due"]
    team_page = _text(page(client_of(app, "max.manager"), "/teams/north/training"))
    assert "Pat Prac" in team_page
    assert "Tier 2 one-day face-to-face training (part 2): never (not done)" in team_page
    assert "elearning (part 1 of Tier 1 and Tier 2): 1 September 2025" in team_page
    assert "In date only when every part is" in team_page

    day = date(2025, 11, 20)
    with app.app_context():
        _completed(db.session.get_one(User, pat_id), DAY, day)
        commit()
        standing = _oliver(pat_id)
        assert (standing.status, standing.compliant) == ("in_date", True)
        # the item is repeated when its earliest part falls due
        assert standing.completed_on == elearning
        assert standing.expires_on == hand_months(elearning, 36)
    plan = _text(page(client_of(app, "pat.prac"), f"/people/{pat_id}/development"))
    assert "Tier 2 one-day face-to-face training (part 2): 20 November 2025" in plan
    assert "elearning (part 1 of Tier 1 and Tier 2): 1 September 2025" in plan


def test_two_part_one_part_expired_is_not_compliant(app, framework):
    pat_id = _team(app)
    with app.app_context():
        pat = db.session.get_one(User, pat_id)
        _completed(pat, OLIVER, date(2023, 2, 1))  # 36 months ran out on 1 February 2026
        _completed(pat, DAY, date(2025, 10, 1))
        commit()
        standing = _oliver(pat_id)
        assert [p.status for p in standing.parts] == ["overdue", "in_date"]
        assert (standing.status, standing.compliant) == ("overdue", False)
        assert standing.expires_on == date(2026, 2, 1)
        compliance = required.team_compliance(pat.roles[0].team, current_version(), NOW)
        assert compliance.fully_compliant == 0 and compliance.count("overdue") == 1


def test_a_stored_future_completion_does_not_count_and_is_flagged(app, framework):
    pat_id = _team(app)
    ahead = date(2027, 7, 20)  # 400 days after NOW
    with app.app_context():
        pat = db.session.get_one(User, pat_id)
        _completed(pat, OLIVER, ahead)
        _completed(pat, DAY, date(2026, 1, 5))
        _completed(pat, "module.cyp-keyworker", ahead)
        commit()
        standing = _oliver(pat_id)
        assert standing.parts[0].completed_on is None and standing.parts[0].future_on == ahead
        assert (standing.status, standing.compliant) == ("due", False)
        core = next(
            s
            for s in required.person_standings(pat, current_version())
            if s.module.key == "module.cyp-keyworker"
        )
        assert (core.status, core.completed_on) == ("due", None)
        assert [p.future_on for p in core.future_dated] == [ahead]
        # the bulk count (the organisation workbook) agrees
        counts = required.organisation_compliance_counts(current_version(), NOW)
        assert counts.compliant == 0 and counts.required == 2
    manager = _text(page(client_of(app, "max.manager"), "/teams/north/training"))
    assert manager.count("Date to correct") == 2
    assert "recorded as 20 July 2027, a date in the future. It does not count" in manager
    plan = _text(page(client_of(app, "max.manager"), f"/people/{pat_id}/development"))
    assert "Date to correct" in plan

    # an earlier completion still counts when a later one is dated in the future
    with app.app_context():
        _completed(db.session.get_one(User, pat_id), OLIVER, date(2025, 12, 1))
        commit()
        standing = _oliver(pat_id)
        assert standing.parts[0].completed_on == date(2025, 12, 1)
        assert standing.parts[0].future_on == ahead
        assert standing.compliant


def test_two_part_one_part_overdue_the_other_never_done_is_overdue(app, framework):
    pat_id = _team(app)
    with app.app_context():
        _completed(db.session.get_one(User, pat_id), OLIVER, date(2023, 1, 10))
        commit()
        standing = _oliver(pat_id)
        assert [p.status for p in standing.parts] == ["overdue", "due"]
        assert (standing.status, standing.expires_on) == ("overdue", date(2026, 1, 10))
    home = _text(page(client_of(app, "pat.prac"), "/"))
    assert "Required training overdue: The Oliver McGowan" in home
