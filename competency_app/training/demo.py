"""Demo data for required training and assignments (called by `flask demo`): some
keyworkers in date, one expiring, two overdue, some never done; the Oliver McGowan item's
two parts (one keyworker with the e-learning but not yet the face-to-face day, one with the
day in date but the e-learning overdue) and a completion stored with a date in the future,
flagged for correction; modules assigned from the training plan, one of them completed."""

from __future__ import annotations

from datetime import timedelta

from competency_app.accounts.models import User
from competency_app.clock import today as today_in_london
from competency_app.clock import utcnow
from competency_app.common.dates import add_months
from competency_app.extensions import db
from competency_app.framework.models import FrameworkVersion
from competency_app.training.models import ModuleCompletion
from competency_app.training.services import assign_module

CORE = "module.cyp-keyworker"
OLIVER = "module.oliver-mcgowan"
DAY = "module.oliver-mcgowan-tier2-day"  # the Tier 2 face-to-face day, a part of OLIVER


def _complete(person: User, key: str, days_ago: int | None = None, months_ago: int = 0):
    today = today_in_london()
    day = add_months(today, -months_ago) - timedelta(days=days_ago or 0)
    db.session.add(
        ModuleCompletion(
            person_id=person.id,
            module_key=key,
            completed_on=day,
            certificate_ref=None,
            recorded_at=utcnow(),
            recorded_by_id=person.id,
        )
    )


def create_demo_training(
    keyworkers: dict[str, User], manager: User, version: FrameworkVersion
) -> None:
    """Completions of the required modules and a few assignments (flushes only)."""
    keys = {m.key for m in version.modules}
    if not {CORE, OLIVER, DAY} <= keys:
        return  # another framework file: its own catalogue, no demo training
    plan = {
        "aisha.khan": [(CORE, 200, 0), (OLIVER, 400, 0), (DAY, 380, 0)],
        "ben.hughes": [(CORE, 300, 0), (OLIVER, -30, 36), (DAY, -40, 36)],  # due in a month
        "chloe.evans": [(CORE, 500, 0), (OLIVER, 0, 37), (DAY, 0, 37)],  # overdue
        "daniel.okafor": [(OLIVER, 100, 0)],  # the e-learning only: the day still to do
        # the course completed in 90 days' time: stored before such dates were refused
        "emma.walsh": [(CORE, 90, 0), (OLIVER, -90, 0)],
        "grace.lewis": [(CORE, 50, 0), (OLIVER, 50, 0), (DAY, 20, 0)],
        "harry.patel": [(CORE, 700, 0), (OLIVER, 0, 38), (DAY, 300, 0)],  # e-learning overdue
    }
    for local, completions in plan.items():
        person = keyworkers.get(local)
        if person is None:
            continue
        for key, days_ago, months_ago in completions:
            _complete(person, key, days_ago, months_ago)
    today = today_in_london()
    for local, key, days, gap in (
        ("farid.rahman", CORE, 30, None),
        ("daniel.okafor", CORE, 14, None),
        ("harry.patel", OLIVER, 21, None),
        ("farid.rahman", "module.trauma-informed", 60, "1a"),
        ("emma.walsh", "module.mental-capacity-act", 45, "4b"),
    ):
        person = keyworkers.get(local)
        if person is None or key not in keys:
            continue
        assign_module(person, key, today + timedelta(days=days), manager, version, element_key=gap)
    emma = keyworkers.get("emma.walsh")
    if emma is not None and "module.mental-capacity-act" in keys:
        _complete(emma, "module.mental-capacity-act", 0)  # assigned and already done
    db.session.flush()
