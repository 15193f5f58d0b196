"""Exports with their audit trail (who, what scope, how many rows)."""

from __future__ import annotations

from pathlib import Path

from competency_app.accounts.models import Team, User
from competency_app.accounts.services import record
from competency_app.clock import utcnow
from competency_app.exports.workbooks import Export, build_workbook
from competency_app.framework.services import current_version
from competency_app.training.required import keyworker_teams


class ExportError(ValueError):
    pass


def export_team(
    team: Team, actor: User | None, actor_label: str = "cli", history: bool = False
) -> Export:
    """The team's workbook: its members' current cycle of ratings, or with `history` every
    cycle (the audit event says which)."""
    version = _version()
    export = build_workbook([team], version, utcnow(), scope=team.name, history=history)
    _audit(actor, actor_label, f"team:{team.slug}", export, ratings=ratings_scope(history))
    return export


def ratings_scope(history: bool) -> str:
    """How the audit trail names the ratings a team workbook holds."""
    return "every cycle" if history else "current cycle"


def export_organisation(
    actor: User | None,
    actor_label: str = "cli",
    organisation_id: int | None = None,
    into: Path | None = None,
) -> Export:
    """The workbook of the teams `organisation_id` hosts (None, the command line: every
    team of the installation); written `into` a file, when given, as the job writes it."""
    version = _version()
    teams = keyworker_teams(organisation_id)
    if not teams:
        raise ExportError("There are no teams with members to export.")
    # The organisation's workbook keeps every cycle, as it always has.
    export = build_workbook(
        teams,
        version,
        utcnow(),
        scope="Organisation",
        history=True,
        organisation_id=organisation_id,
        into=into,
    )
    _audit(actor, actor_label, "organisation", export)
    return export


def _version():
    version = current_version(structure=True)
    if version is None:
        raise ExportError("No framework has been loaded yet.")
    return version


def _audit(actor: User | None, label: str, scope: str, export: Export, **detail: str) -> None:
    if actor is None:
        detail["actor_label"] = label
    record(
        "export",
        actor,
        target=scope,
        organisation_id=None,
        rows=export.rows,
        file=export.filename,
        **detail,
    )
