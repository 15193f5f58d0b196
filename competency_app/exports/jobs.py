"""The HR workbooks as jobs: the organisation's, and a large team's."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from competency_app.accounts import scope
from competency_app.accounts.models import Role, RoleAssignment, Team, User
from competency_app.accounts.permissions import can_export_team
from competency_app.clock import utcnow
from competency_app.common.downloads import XLSX
from competency_app.exports.services import ExportError, _audit, _version, ratings_scope
from competency_app.exports.workbooks import Export, build_workbook
from competency_app.extensions import db
from competency_app.jobs.models import Job
from competency_app.jobs.services import (
    JobError,
    JobKind,
    JobResult,
    Progress,
    register,
    scratch,
)
from competency_app.training.required import keyworker_teams


def _result(export: Export, file: Path, what: str) -> JobResult:
    """The job's result: the workbook it wrote into `file`."""
    return JobResult(summary=f"{what}: {export.rows:,} rows.", file=file, filename=export.filename)


def _organisation(params: dict, progress: Progress) -> JobResult:
    try:
        version = _version()
    except ExportError as error:
        raise JobError(str(error)) from None
    organisation_id = params.get("organisation")
    if organisation_id is None:  # asked for before organisations: ask again
        raise JobError("This request names no organisation: ask for the workbook again.")
    teams = keyworker_teams(organisation_id)
    if not teams:
        raise JobError("There are no teams with members to export.")
    with scratch() as file:
        export = build_workbook(
            teams,
            version,
            utcnow(),
            scope="Organisation",
            progress=progress,
            history=True,
            organisation_id=organisation_id,
            into=file,
        )
    teams_text = f"{len(teams)} team" if len(teams) == 1 else f"{len(teams)} teams"
    return _result(export, file, f"The organisation workbook ({teams_text})")


def _team(params: dict, progress: Progress) -> JobResult:
    try:
        version = _version()
    except ExportError as error:
        raise JobError(str(error)) from None
    team = db.session.scalar(select(Team).where(Team.slug == params["team"]))
    if team is None:
        raise JobError("This team no longer exists.")
    history = bool(params.get("history"))
    with scratch() as file:
        export = build_workbook(
            [team],
            version,
            utcnow(),
            scope=team.name,
            progress=progress,
            history=history,
            into=file,
        )
    return _result(export, file, f"The {team.name} workbook")


def _audit_download(job: Job, user: User) -> None:
    """Every download of a workbook is recorded, as a direct download is."""
    export = Export(b"", _rows(job), job.result_name or "")
    if job.kind == ORGANISATION.name:
        _audit(user, "web", "organisation", export)
    else:
        ratings = ratings_scope(bool(job.params.get("history")))
        _audit(user, "web", f"team:{job.params['team']}", export, ratings=ratings)


def _may_ask_for_team(user: User, params: dict) -> bool:
    """As the team workbook's request: the team's managers, HR and admins."""
    team = db.session.scalar(select(Team).where(Team.slug == params.get("team")))
    return team is not None and can_export_team(user, team)


def _rows(job: Job) -> int:
    # the summary says "...: 1,234 rows."; the audit keeps the count only
    digits = "".join(ch for ch in (job.summary or "").rsplit(":", 1)[-1] if ch.isdigit())
    return int(digits or 0)


ORGANISATION = register(
    JobKind(
        name="organisation_workbook",
        title="The organisation workbook",
        run=_organisation,
        mimetype=XLSX,
        on_download=_audit_download,
        may_request=lambda user, params: scope.acts_for(user, params.get("organisation")),
    )
)
TEAM = register(
    JobKind(
        name="team_workbook",
        title="A team workbook",
        run=_team,
        mimetype=XLSX,
        on_download=_audit_download,
        may_request=_may_ask_for_team,
    )
)


def team_size(team: Team) -> int:
    return (
        db.session.scalar(
            select(func.count(func.distinct(RoleAssignment.user_id))).where(
                RoleAssignment.team_id == team.id, RoleAssignment.role == Role.PRACTITIONER
            )
        )
        or 0
    )
