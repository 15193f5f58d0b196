"""Vacancies, candidates, shortlisting, interview scoring, agreement, ranking, workbook."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import or_, select

from competency_app.accounts.models import Role, RoleAssignment, Team, User
from competency_app.accounts.permissions import access, has_role
from competency_app.accounts.services import record
from competency_app.common.downloads import send_xlsx
from competency_app.database import unit_of_work
from competency_app.exports.imports import ImportFileError, read_rows
from competency_app.extensions import db
from competency_app.framework.models import FrameworkVersion
from competency_app.framework.services import link_titles, version_structure
from competency_app.recruitment import forms, services
from competency_app.recruitment.models import Candidate, PanelMember, ShortlistMark, Vacancy
from competency_app.recruitment.permissions import (
    can_manage_vacancy,
    can_view_vacancy,
    on_panel,
    vacancy_by_id,
    vacancy_rule,
)
from competency_app.recruitment.workbook import vacancy_workbook

blueprint = Blueprint("recruitment", __name__, url_prefix="/recruitment")


def _me() -> User:
    return current_user._get_current_object()


def _candidate(vacancy: Vacancy, candidate_id: int) -> Candidate:
    candidate = db.session.get(Candidate, candidate_id)
    if candidate is None or candidate.vacancy_id != vacancy.id:
        abort(404)
    return candidate


@contextmanager
def _saving() -> Iterator[None]:
    """The request's one transaction; a refused change rolls back and answers its status."""
    try:
        with unit_of_work():
            yield
    except services.RecruitmentError as error:
        abort(error.status, str(error))


@blueprint.get("")
@access(has_role(Role.RECRUITER, Role.HR, Role.SUPERVISOR, Role.MANAGER, Role.PRACTITIONER))
def index():
    me = _me()
    statement = select(Vacancy).order_by(Vacancy.closing_date.desc())
    if Role.HR not in me.role_set:
        statement = statement.where(
            or_(
                Vacancy.team_id.in_(me.team_ids(Role.RECRUITER) or {-1}),
                Vacancy.id.in_(select(PanelMember.vacancy_id).where(PanelMember.user_id == me.id)),
            )
        )
    return render_template(
        "recruitment/index.html",
        title="Recruitment",
        vacancies=list(db.session.scalars(statement)),
        can_create=bool(me.team_ids(Role.RECRUITER)),
    )


def _people_for(team_ids: set[int]) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.active, User.roles.any(RoleAssignment.team_id.in_(team_ids or {-1})))
            .order_by(User.name)
        )
    )


@blueprint.route("/new", methods=["GET", "POST"])
@access(has_role(Role.RECRUITER))
def new_vacancy():
    me = _me()
    teams = list(db.session.scalars(select(Team).where(Team.id.in_(me.team_ids(Role.RECRUITER)))))
    people = _people_for({t.id for t in teams})
    form = forms.VacancyForm(teams, people)
    if request.method == "GET":
        form.title.data = "Keyworker"
    errors: dict[str, str] = {}
    if request.method == "POST":
        if form.validate():
            try:
                with unit_of_work():
                    vacancy = services.create_vacancy(
                        form.chosen_team,
                        form.title.data or "",
                        form.closing,
                        form.people(form.shortlisters),
                        form.people(form.interviewers),
                        form.chosen_chair,
                        me,
                    )
            except services.RecruitmentError as error:
                errors[error.field or "title"] = str(error)
            else:
                flash("Vacancy created. Add candidates when applications arrive.", "success")
                return redirect(url_for("recruitment.vacancy", vacancy_id=vacancy.id), code=303)
        else:
            errors = form.error_dict()
    typed = form.typed()
    return (
        render_template(
            "recruitment/new.html",
            title="Create a vacancy",
            teams=teams,
            people=people,
            errors=errors,
            typed=typed,
            form=form,
        ),
        400 if errors else 200,
    )


@blueprint.get("/<int:vacancy_id>")
@access(vacancy_rule(can_view_vacancy))
def vacancy(vacancy_id: int):
    return _vacancy_page(vacancy_by_id(vacancy_id))


def _vacancy_page(vacancy: Vacancy, errors: dict | None = None, typed: dict | None = None):
    me = _me()
    return (
        render_template(
            "recruitment/vacancy.html",
            title=vacancy.title,
            vacancy=vacancy,
            criteria=services.criteria_of(vacancy),
            priorities=services.priority_criteria(vacancy),
            link_titles=link_titles(
                version_structure(
                    db.session.get_one(FrameworkVersion, vacancy.framework_version_id)
                )
            ),
            shortlist={r.candidate.id: r for r in services.shortlist_results(vacancy)},
            can_manage=can_manage_vacancy(me, vacancy),
            is_shortlister=on_panel(me, vacancy, "shortlister"),
            is_interviewer=on_panel(me, vacancy, "interviewer"),
            is_chair=on_panel(me, vacancy, "chair"),
            form=FlaskForm(),
            errors=errors or {},
            typed=typed or {},
        ),
        400 if errors else 200,
    )


@blueprint.post("/<int:vacancy_id>/candidates")
@access(vacancy_rule(can_manage_vacancy))
def add_candidate(vacancy_id: int):
    vacancy = vacancy_by_id(vacancy_id)
    form = forms.CandidateForm()
    typed = {"name": form.name.data or "", "email": form.email.data or ""}
    try:
        with unit_of_work():
            candidate = services.add_candidate(vacancy, typed["name"], typed["email"], _me())
    except services.RecruitmentError as error:
        if error.status != 400:
            abort(error.status, str(error))
        return _vacancy_page(vacancy, {error.field or "name": str(error)}, typed)
    flash(f"Candidate {candidate.reference} added.", "success")
    return redirect(url_for("recruitment.vacancy", vacancy_id=vacancy.id), code=303)


@blueprint.post("/<int:vacancy_id>/candidates/import")
@access(vacancy_rule(can_manage_vacancy))
def import_candidates(vacancy_id: int):
    vacancy = vacancy_by_id(vacancy_id)
    form = forms.CandidateImportForm()
    if not form.validate():
        abort(400, form.error_dict()["file"])
    upload = form.file.data
    try:
        rows = read_rows(upload.read(), upload.filename, ["name", "email"])
    except ImportFileError as error:
        abort(400, f"{upload.filename}: {error}")
    with _saving():
        services.import_candidates(vacancy, rows, _me())
    flash(f"{len(rows)} candidates added from {upload.filename}.", "success")
    return redirect(url_for("recruitment.vacancy", vacancy_id=vacancy.id), code=303)


@blueprint.route(
    "/<int:vacancy_id>/candidates/<int:candidate_id>/shortlist", methods=["GET", "POST"]
)
@access(vacancy_rule(can_view_vacancy, "shortlister"))
def shortlist(vacancy_id: int, candidate_id: int):
    vacancy = vacancy_by_id(vacancy_id)
    candidate = _candidate(vacancy, candidate_id)
    criteria = services.shortlist_criteria(vacancy)
    scale = services.scoring_of(vacancy).scale.levels
    if request.method == "POST":
        form = forms.shortlist_form(criteria, {str(level.value) for level in scale})()
        if not form.validate():
            abort(400, "Some marks are not valid choices.")
        marks: dict[str, tuple[bool | None, int | None]] = {}
        for criterion in criteria:
            raw = form[f"c-{criterion.key}"].data or ""
            if criterion.requirement == "essential":
                marks[criterion.key] = ({"met": True, "not-met": False}.get(raw), None)
            else:
                marks[criterion.key] = (None, int(raw) if raw else None)
        with _saving():
            services.save_shortlist(candidate, _me(), marks)
        flash(f"Shortlisting marks for {candidate.reference} saved.", "success")
        return redirect(url_for("recruitment.vacancy", vacancy_id=vacancy.id), code=303)
    mine = {
        m.criterion_key: m
        for m in db.session.scalars(
            select(ShortlistMark).where(
                ShortlistMark.candidate_id == candidate.id,
                ShortlistMark.shortlister_id == current_user.id,
            )
        )
    }
    return render_template(
        "recruitment/shortlist.html",
        title=f"Shortlist {candidate.reference}",
        vacancy=vacancy,
        candidate=candidate,
        criteria=criteria,
        scale=scale,
        mine=mine,
        form=FlaskForm(),
    )


@blueprint.route(
    "/<int:vacancy_id>/candidates/<int:candidate_id>/interview", methods=["GET", "POST"]
)
@access(vacancy_rule(can_view_vacancy, "interviewer"))
def interview(vacancy_id: int, candidate_id: int):
    vacancy = vacancy_by_id(vacancy_id)
    candidate = _candidate(vacancy, candidate_id)
    me = _me()
    criteria = services.interview_criteria(vacancy)
    scale = services.scoring_of(vacancy).scale.levels
    if request.method == "POST":
        form = forms.interview_form(criteria)()
        if not form.validate():
            abort(400, next(iter(form.error_dict().values())))
        scores = {
            criterion.key: (
                int(raw) if (raw := form[f"s-{criterion.key}"].data or "") else None,
                form[f"n-{criterion.key}"].data or "",
            )
            for criterion in criteria
        }
        submit = form["action"].data == "submit"
        with _saving():
            services.save_scores(candidate, me, scores, submit)
        flash(
            "Scores submitted: you can now see the panel's scores."
            if submit
            else "Scores saved (not yet submitted).",
            "success",
        )
        return redirect(
            url_for("recruitment.interview", vacancy_id=vacancy.id, candidate_id=candidate.id),
            code=303,
        )
    return render_template(
        "recruitment/interview.html",
        title=f"Interview {candidate.reference}",
        vacancy=vacancy,
        candidate=candidate,
        criteria=criteria,
        scale=scale,
        mine=services.my_scores(candidate, me),
        submitted=services.has_submitted(candidate, me),
        panel=services.visible_scores(candidate, me),
        is_chair=on_panel(me, vacancy, "chair"),
        agreed=services.agreed_scores(candidate),
        form=FlaskForm(),
    )


@blueprint.post("/<int:vacancy_id>/candidates/<int:candidate_id>/agree")
@access(vacancy_rule(can_view_vacancy, "chair"))
def agree(vacancy_id: int, candidate_id: int):
    vacancy = vacancy_by_id(vacancy_id)
    candidate = _candidate(vacancy, candidate_id)
    criteria = services.interview_criteria(vacancy)
    form = forms.agree_form(criteria)()
    if not form.validate():
        abort(400, next(iter(form.error_dict().values())))
    scores = {
        criterion.key: int(raw)
        for criterion in criteria
        if (raw := form[f"a-{criterion.key}"].data or "")
    }
    with _saving():
        services.save_agreed(candidate, _me(), scores)
    flash(f"Agreed scores for {candidate.reference} saved.", "success")
    return redirect(url_for("recruitment.ranking", vacancy_id=vacancy.id), code=303)


@blueprint.get("/<int:vacancy_id>/ranking")
@access(vacancy_rule(can_view_vacancy))
def ranking(vacancy_id: int):
    vacancy = vacancy_by_id(vacancy_id)
    return render_template(
        "recruitment/ranking.html",
        title=f"{vacancy.title}: ranking",
        vacancy=vacancy,
        ranked=services.ranking(vacancy),
        can_manage=can_manage_vacancy(_me(), vacancy),
        rule=services.scoring_of(vacancy).appointable_rule.description,
    )


@blueprint.get("/<int:vacancy_id>/workbook.xlsx")
@access(vacancy_rule(can_manage_vacancy))
def workbook(vacancy_id: int):
    vacancy = vacancy_by_id(vacancy_id)
    with unit_of_work():
        content, rows = vacancy_workbook(vacancy)
        record("export", _me(), target=f"vacancy:{vacancy.id}", rows=rows)
    return send_xlsx(content, f"vacancy-{vacancy.id}-interview-scores.xlsx")
