"""The coverage matrix's state of a member on an element expected of everyone, which leaves
its enhanced skill to the team: "Has met it" when they hold what everyone must, not "Partly"."""

from __future__ import annotations

from datetime import UTC, datetime

from competency_app.coverage.services import ElementCoverage, _matrix_state

LATER = datetime(2027, 6, 1, tzinfo=UTC)


def test_states_of_an_element_expected_of_everyone():
    e = ElementCoverage(
        element=None,  # type: ignore[arg-type]  # not read by the state
        skill_count=13,
        competent_skills={1: 13, 2: 12, 3: 5},
        holder_expiry={1: LATER},
        everyone_keys=frozenset(f"2.s{n}" for n in range(1, 14) if n != 12),
        everyone_expiry={1: LATER, 2: LATER},
    )
    assert [_matrix_state(e, person) for person in (1, 2, 3, 4)] == [
        "held",
        "met",
        "partial",
        "none",
    ]


def test_an_element_held_by_the_team_has_no_met_state():
    e = ElementCoverage(
        element=None,  # type: ignore[arg-type]
        skill_count=4,
        competent_skills={1: 4, 2: 3},
        holder_expiry={1: LATER},
        everyone_expiry={2: LATER},  # ignored: nothing of it is expected of everyone
    )
    assert [_matrix_state(e, person) for person in (1, 2)] == ["held", "partial"]
