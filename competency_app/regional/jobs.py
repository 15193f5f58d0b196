"""The regional workbook as a job: asked for by a regional lead, for their collaborative."""

from __future__ import annotations

from competency_app.accounts.models import Collaborative, User
from competency_app.accounts.scope import lead_collaborative_ids
from competency_app.accounts.services import record
from competency_app.clock import utcnow
from competency_app.common.downloads import XLSX
from competency_app.extensions import db
from competency_app.framework.services import current_version
from competency_app.jobs.models import Job
from competency_app.jobs.services import JobError, JobKind, JobResult, Progress, register
from competency_app.regional.services import regional_figures, regional_forecast
from competency_app.regional.workbook import SHEETS, build_regional_workbook


def _run(params: dict, progress: Progress) -> JobResult:
    version = current_version(structure=True)
    if version is None:
        raise JobError("No framework has been loaded yet.")
    collaborative = db.session.get(Collaborative, params["collaborative"])
    if collaborative is None:
        raise JobError("This collaborative no longer exists.")
    total = len(SHEETS) + 2
    progress(0, total)
    now = utcnow()
    regional = regional_figures(collaborative, version, now)
    progress(1, total)
    forecast = regional_forecast(collaborative, version, now)
    progress(2, total)
    done = 2

    def step(count: int) -> None:
        nonlocal done
        done += count
        progress(done, total)

    export = build_regional_workbook(regional, forecast, step)
    return JobResult(
        summary=f"The regional workbook of {collaborative.name}: {export.rows:,} rows.",
        content=export.content,
        filename=export.filename,
    )


def _may_request(user: User, params: dict) -> bool:
    return params.get("collaborative") in lead_collaborative_ids(user)


def _audit_download(job: Job, user: User) -> None:
    """Every download is recorded, as the other workbooks' are (figures only: no rows of
    people)."""
    collaborative = db.session.get(Collaborative, job.params["collaborative"])
    name = collaborative.slug if collaborative else str(job.params["collaborative"])
    record("export", user, target=f"collaborative:{name}", file=job.result_name or "")


REGIONAL = register(
    JobKind(
        name="regional_workbook",
        title="The regional workbook",
        run=_run,
        mimetype=XLSX,
        on_download=_audit_download,
        may_request=_may_request,
    )
)
