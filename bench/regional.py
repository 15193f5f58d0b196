"""The regional view at scale: a collaborative of N organisations (bench/all.py runs it).

    python bench/regional.py measure URL REPEAT     # in the child: one JSON object, last line

`bench/all.py` makes a fresh database, generates `--regional-people` keyworkers in teams of
25 spread over `--regional-organisations` organisations of one collaborative (`flask
seed-scale --organisations`), then this child measures, in one process:
  * the regional figures with no stored team figures (every team worked out live);
  * then, once every team's figures are stored (as sign-offs keep them), the regional
    figures in a process that has not judged the teams yet (its caches emptied before each
    run: every team judged from its stored figures), and as the page gets them again in
    the same process (each team's counts kept while its figures hold): p50 / p95;
  * their floor, alternated with each (A B A B …; the median per-pair ratio and its spread):
    one GROUP BY over the stored team figures table joined to the teams (per organisation:
    teams, and the latest moment their figures hold until), through the same driver, so the
    ratio says what reading the stored counts and the rest of the view costs beyond touching
    every row once; the target is 1 s at 100,000 people;
  * the forecast at 30, 60 and 90 days (worked out live, then kept for the day): its first,
    uncached run.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from measure import _app, alternated, paired  # noqa: E402 - beside this file
from roster_import import peak_mb  # noqa: E402


def store_every_team(version) -> int:
    """Every team's figures stored, as a sign-off in it would keep them (bulk-seeded data has
    none): `stored.bring_up_to_date`, the sign-off's job, a few teams at a time. Returns the
    teams stored."""
    from sqlalchemy import select

    from competency_app.accounts.models import Role, RoleAssignment, Team
    from competency_app.coverage.stored import bring_up_to_date
    from competency_app.extensions import db

    rows = db.session.execute(
        select(RoleAssignment.team_id, RoleAssignment.user_id).where(
            RoleAssignment.role == Role.PRACTITIONER
        )
    ).all()
    by_team: dict[int, set[int]] = {}
    for team_id, person in rows:
        by_team.setdefault(team_id, set()).add(person)
    teams = sorted(by_team)
    for start in range(0, len(teams), 20):
        chunk = teams[start : start + 20]
        people = set().union(*(by_team[t] for t in chunk))
        epochs = dict(
            db.session.execute(select(Team.id, Team.coverage_epoch).where(Team.id.in_(chunk))).all()
        )
        bring_up_to_date(people, version, epochs)
        db.session.commit()
    return len(teams)


def measure(url: str, repeat: int) -> dict:
    from datetime import UTC, datetime

    from sqlalchemy import func, select

    from competency_app.accounts.models import Organisation, Team, User
    from competency_app.accounts.services import default_organisation
    from competency_app.common.caches import clear_caches
    from competency_app.coverage.models import StoredTeamFigures
    from competency_app.extensions import db
    from competency_app.framework.services import current_version
    from competency_app.regional.services import regional_figures, regional_forecast

    with _app(url).app_context():
        version = current_version(structure=True)
        collaborative = default_organisation().collaborative
        now = datetime.now(UTC)
        out: dict = {
            "people": db.session.scalar(select(func.count()).select_from(User)),
            "teams": db.session.scalar(select(func.count()).select_from(Team)),
            "organisations": db.session.scalar(select(func.count()).select_from(Organisation)),
        }
        started = time.perf_counter()
        live = regional_figures(collaborative, version, now)
        out["live_ms"] = (time.perf_counter() - started) * 1000
        assert live.stored_teams == 0
        started = time.perf_counter()
        out["stored_teams"] = store_every_team(version)
        out["store_seconds"] = time.perf_counter() - started
        now = datetime.now(UTC)
        clear_caches()  # a process that has not judged these teams yet: the stored figures
        first = regional_figures(collaborative, version, now)
        assert first.stored_teams == len(first.teams), (first.stored_teams, len(first.teams))
        out["practitioners"] = first.practitioners
        out["too_few"] = len(first.too_few)

        def cold():
            clear_caches()
            regional_figures(collaborative, version, now)

        s = StoredTeamFigures

        def floor():
            db.session.execute(
                select(Team.organisation_id, func.count(), func.max(s.valid_until))
                .join(s, s.team_id == Team.id)
                .join(Organisation, Organisation.id == Team.organisation_id)
                .where(Organisation.collaborative_id == collaborative.id)
                .group_by(Team.organisation_id)
            ).all()

        # each alternated with the floor (A B A B …): the median per-pair ratio and its spread
        measured, floors = alternated(lambda _i: cold(), lambda _i: floor(), max(3, repeat // 3))
        out["cold"] = paired(measured, floors)
        out["cold_p50_ms"], out["cold_p95_ms"] = out["cold"]["p50"], out["cold"]["p95"]
        again = lambda _i: regional_figures(collaborative, version, now)  # noqa: E731
        measured, floors = alternated(again, lambda _i: floor(), repeat)
        out["again"] = paired(measured, floors)
        out["p50_ms"], out["p95_ms"] = out["again"]["p50"], out["again"]["p95"]
        out["floor_p50_ms"], out["floor_p95_ms"] = (
            out["again"]["floor_p50"],
            out["again"]["floor_p95"],
        )
        started = time.perf_counter()
        forecast = regional_forecast(collaborative, version, now)
        out["forecast_ms"] = (time.perf_counter() - started) * 1000
        out["forecast_gaps"] = forecast.totals("gaps")
        return out


def _spread(figures: dict) -> str:
    return (
        f"{figures['ratio']:.0f}× per pair (IQR {figures['ratio_q1']:.0f}–"
        f"{figures['ratio_q3']:.0f}×); p95 {'✔' if figures['p95'] <= 1000 else '✘'} ≤ 1 s"
    )


def rows_for(r: dict) -> list[tuple[str, str, str, str]]:
    """(measure, ours, floor, ratio) rows for bench/all.py's table."""
    return [
        (
            f"regional view, {r['organisations']} organisations, {r['teams']:,} teams, "
            f"{r['practitioners']:,} keyworkers: judged from the stored figures (cold "
            "process caches), p50 / p95",
            f"{r['cold_p50_ms']:.0f} / {r['cold_p95_ms']:.0f} ms",
            f"GROUP BY over the stored figures: {r['cold']['floor_p50']:.1f} / "
            f"{r['cold']['floor_p95']:.1f} ms",
            _spread(r["cold"]),
        ),
        (
            f"regional view, {r['organisations']} organisations, {r['teams']:,} teams, "
            f"{r['practitioners']:,} keyworkers: again in the same process, p50 / p95",
            f"{r['p50_ms']:.0f} / {r['p95_ms']:.0f} ms",
            f"GROUP BY over the stored figures: {r['floor_p50_ms']:.1f} / "
            f"{r['floor_p95_ms']:.1f} ms",
            _spread(r["again"]),
        ),
        (
            "regional view with no stored figures (every team worked out live)",
            f"{r['live_ms']:.0f} ms",
            "",
            f"storing every team's figures took {r['store_seconds']:.0f} s",
        ),
        (
            "regional forecast, 30 / 60 / 90 days (first run; kept for the day after)",
            f"{r['forecast_ms']:.0f} ms",
            "",
            "element gaps today / 30 / 60 / 90: "
            + " / ".join(f"{n:,}" for n in r["forecast_gaps"]),
        ),
    ]


def main() -> int:
    kind, *args = sys.argv[1:]
    if kind != "measure":
        raise SystemExit(f"unknown measurement {kind!r}")
    result = measure(args[0], int(args[1]))
    result["peak_rss_mb"] = peak_mb()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
