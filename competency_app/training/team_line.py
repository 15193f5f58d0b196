"""A team's training in one line (the coverage page's): required-training compliance and
assigned-training progress, as counts, cached per process.

The counts depend on the members' completions and assignments (every write of which moves
the team's `training_epoch` on, in its own transaction: `training/models.py`), the members,
the framework version (its required modules) and the day (what is overdue or expiring).
Those make the key, so a cached line is never older than the request's own reading of the
team. Only counts are kept: no person, no ORM object.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from competency_app.accounts.models import Team, User
from competency_app.common.caches import BoundedCache, per_process_cache
from competency_app.framework.models import FrameworkVersion
from competency_app.training.required import DUE, EXPIRING, OVERDUE, compliance_for
from competency_app.training.services import Progress, team_assignments


@dataclass(frozen=True)
class TrainingLine:
    percent: int  # required training compliant, of (person, module) pairs
    overdue: int
    never_done: int
    expiring: int
    progress: Progress  # assigned training


LINES: BoundedCache[TrainingLine] = BoundedCache(512)
per_process_cache("team training lines", LINES.clear)


def line_key(team: Team, members: Sequence[User], version: FrameworkVersion, day: date) -> tuple:
    return (
        team.id,
        team.training_epoch,
        version.id,
        version.content_hash,
        tuple(m.id for m in members),
        day,
    )


def compute_line(members: Sequence[User], version: FrameworkVersion, day: date) -> TrainingLine:
    """The line computed afresh (no cache)."""
    compliance = compliance_for(members, version, day)
    return TrainingLine(
        compliance.percent,
        compliance.count(OVERDUE),
        compliance.count(DUE),
        compliance.count(EXPIRING),
        Progress.of(team_assignments(members)),
    )


def team_training_line(
    team: Team, members: Sequence[User], version: FrameworkVersion, day: date
) -> TrainingLine:
    """`members` (the team's keyworkers today)' training line on `day`, from the cache or
    computed and kept."""
    key = line_key(team, members, version, day)
    line = LINES.get(key)
    if line is None:
        line = compute_line(members, version, day)
        LINES.put(key, line)
    return line
