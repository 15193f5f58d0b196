"""Vacancies, candidates, shortlisting and its moderation, interview slots and scoring,
agreement, the assessment task, ranking, stages, offers, appointing, lay panel members and
the HR workbook.

Every form keeps what was typed: a refused change answers 400 (409 when someone else
changed the record first) with the page again, the NHS error summary in page order and
the typed values in their fields.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import or_, select

from competency_app.accounts import password_links, scope
from competency_app.accounts.models import Role, RoleAssignment, Team, User
from competency_app.accounts.permissions import access, has_role
from competency_app.accounts.services import record
from competency_app.common.downloads import send_xlsx
from competency_app.database import unit_of_work
from competency_app.exports.imports import ImportFileError, read_rows
from competency_app.extensions import db
from competency_app.framework.models import Criterion, FrameworkVersion, Module
from competency_app.framework.services import current_words, link_titles, version_structure
from competency_app.recruitment import forms, services
from competency_app.recruitment.models import (
    STATE_LABELS,
    Candidate,
    ShortlistMark,
    Vacancy,
)
from competency_app.recruitment.permissions import (
    can_decide_vacancy,
    can_manage_vacancy,
    can_moderate_vacancy,
    can_request_candidate_data,
    can_view_results,
    can_view_vacancy,
    is_lay_member,
    on_panel,
    panel_vacancy_ids,
    vacancy_by_id,
    vacancy_rule,
)
from competency_app.recruitment.workbook import vacancy_workbook

blueprint = Blueprint("recruitment", __name__, url_prefix="/recruitment")


@blueprint.app_template_filter("criterion_short")
def criterion_short(criterion: Criterion) -> str:
    return services.short_title(criterion)


@blueprint.app_template_filter("vacancy_state")
def vacancy_state(state: str) -> str:
    return STATE_LABELS.get(state, state)


def _me() -> User:
    return current_user._get_current_object()


def _candidate(vacancy: Vacancy, candidate_id: int) -> Candidate:
    candidate = db.session.get(Candidate, candidate_id)
    if candidate is None or candidate.vacancy_id != vacancy.id:
        abort(404)
    return candidate


def _interview_candidate(vacancy: Vacancy, candidate_id: int) -> Candidate:
    """A lay panel member sees only the candidates going to interview."""
    candidate = _candidate(vacancy, candidate_id)
    if is_lay_member(_me(), vacancy) and not services.goes_forward(candidate):
        abort(403)
    return candidate


def _refused(error: services.RecruitmentError) -> dict[str, str]:
    """The errors to show on the form again (a refusal without a field goes on top)."""
    if error.status == 403:
        abort(403, str(error))
    return error.errors or {"": str(error)}


@blueprint.get("")
@access(
    has_role(
        Role.RECRUITER,
        Role.HR,
        Role.SUPERVISOR,
        Role.MANAGER,
        Role.PRACTITIONER,
        Role.PANEL_MEMBER,
    )
)
def index():
    me = _me()
    statement = (
        select(Vacancy)
        .where(
            or_(
                scope.in_hosted_teams(Vacancy.team_id, me),
                Vacancy.team_id.in_(me.team_ids(Role.RECRUITER) or {-1}),
                Vacancy.id.in_(panel_vacancy_ids(me)),
            )
        )
        .order_by(Vacancy.closing_date.desc())
    )
    vacancies = [v for v in db.session.scalars(statement) if can_view_vacancy(me, v)]
    return render_template(
        "recruitment/index.html",
        title="Recruitment",
        vacancies=vacancies,
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
        form.title.data = current_words().vacancy_title
    errors: dict[str, str] = {}
    if request.method == "POST":
        form.validate()
        parsed = form.error_dict()
        try:
            with unit_of_work():
                vacancy = services.create_vacancy(
                    None if "team" in parsed else form.chosen_team,
                    form.title.data or "",
                    None if "closing_date" in parsed else form.closing,
                    form.people(form.shortlisters),
                    form.people(form.interviewers),
                    None if "chair" in parsed else form.chosen_chair,
                    me,
                    earlier_errors=parsed,
                )
        except services.RecruitmentError as error:
            errors = _refused(error)
        else:
            flash("Vacancy created. Add candidates when applications arrive.", "success")
            return redirect(url_for("recruitment.vacancy", vacancy_id=vacancy.id), code=303)
    return (
        render_template(
            "recruitment/new.html",
            title="Create a vacancy",
            teams=teams,
            people=people,
            errors=errors,
            typed=form.typed(),
            form=form,
        ),
        400 if errors else 200,
    )


@blueprint.get("/<int:vacancy_id>")
@access(vacancy_rule(can_view_vacancy))
def vacancy(vacancy_id: int):
    return _vacancy_page(vacancy_by_id(vacancy_id))


def _vacancy_page(
    vacancy: Vacancy,
    errors: dict | None = None,
    typed: dict | None = None,
    status: int | None = None,
    invited: tuple[User, str] | None = None,
):
    me = _me()
    lay = is_lay_member(me, vacancy)
    results = services.shortlist_results(vacancy)
    shortlist = {r.candidate.id: r for r in results}
    candidates = [c for c in vacancy.candidates if not lay or shortlist[c.id].goes_forward]
    return (
        render_template(
            "recruitment/vacancy.html",
            title=vacancy.title,
            vacancy=vacancy,
            candidates=candidates,
            criteria=services.criteria_of(vacancy),
            priorities=services.priority_criteria(vacancy),
            link_titles=link_titles(
                version_structure(
                    db.session.get_one(FrameworkVersion, vacancy.framework_version_id)
                )
            ),
            shortlist=shortlist,
            lay=lay,
            can_manage=can_manage_vacancy(me, vacancy),
            can_moderate=can_moderate_vacancy(me, vacancy),
            can_copy_data=can_request_candidate_data(me, vacancy) and not vacancy.purged_at,
            next_states=[
                s
                for s in services.TRANSITIONS.get(vacancy.state, ())
                if s not in ("offer_made", "appointed", "withdrawn")
                and services.can_move(me, vacancy, s)
            ],
            is_shortlister=on_panel(me, vacancy, "shortlister"),
            is_interviewer=on_panel(me, vacancy, "interviewer"),
            is_chair=on_panel(me, vacancy, "chair"),
            submitted={c.id: services.has_submitted(c, me) for c in candidates},
            form=FlaskForm(),
            errors=errors or {},
            typed=typed or {},
            invited=invited,
            invite_url=password_links.link_url(invited[1]) if invited else None,
        ),
        status or (400 if errors else 200),
    )


@blueprint.post("/<int:vacancy_id>/candidates")
@access(vacancy_rule(can_manage_vacancy))
def add_candidate(vacancy_id: int):
    vacancy = vacancy_by_id(vacancy_id)
    form = forms.CandidateForm()
    typed = {"name": form.name.data or "", "email": form.email.data or ""}
    if not form.validate():
        return _vacancy_page(vacancy, form.error_dict(), typed, 400)
    try:
        with unit_of_work():
            candidate = services.add_candidate(vacancy, typed["name"], typed["email"], _me())
    except services.RecruitmentError as error:
        return _vacancy_page(vacancy, _refused(error), typed, error.status)
    flash(f"Candidate {candidate.reference} added.", "success")
    return redirect(url_for("recruitment.vacancy", vacancy_id=vacancy.id), code=303)


@blueprint.post("/<int:vacancy_id>/candidates/import")
@access(vacancy_rule(can_manage_vacancy))
def import_candidates(vacancy_id: int):
    vacancy = vacancy_by_id(vacancy_id)
    form = forms.CandidateImportForm()
    if not form.validate():
        return _vacancy_page(vacancy, {"file": form.error_dict()["file"]})
    upload = form.file.data
    try:
        rows = read_rows(upload.read(), upload.filename, ["name", "email"])
    except ImportFileError as error:
        return _vacancy_page(vacancy, {"file": f"{upload.filename}: {error}"})
    try:
        with unit_of_work():
            services.import_candidates(vacancy, rows, _me())
    except services.RecruitmentError as error:
        return _vacancy_page(vacancy, {"file": str(error)}, status=error.status)
    flash(f"{len(rows)} candidates added from {upload.filename}.", "success")
    return redirect(url_for("recruitment.vacancy", vacancy_id=vacancy.id), code=303)


@blueprint.post("/<int:vacancy_id>/panel")
@access(vacancy_rule(can_manage_vacancy))
def invite(vacancy_id: int):
    vacancy = vacancy_by_id(vacancy_id)
    form = forms.InviteForm()
    typed = {
        "invite_name": form.invite_name.data or "",
        "invite_email": form.invite_email.data or "",
    }
    if not form.validate():
        return _vacancy_page(vacancy, form.error_dict(), typed, 400)
    try:
        with unit_of_work():
            person, token = services.invite_panel_member(
                vacancy, typed["invite_name"], typed["invite_email"], _me()
            )
    except services.RecruitmentError as error:
        return _vacancy_page(vacancy, _refused(error), typed, error.status)
    db.session.refresh(vacancy)
    return _vacancy_page(vacancy, invited=(person, token))


@blueprint.post("/<int:vacancy_id>/stage")
@access(vacancy_rule(can_decide_vacancy))
def stage(vacancy_id: int):
    vacancy = vacancy_by_id(vacancy_id)
    form = forms.StageForm()
    to = form.to.data or ""
    try:
        with unit_of_work():
            services.move_vacancy(vacancy, to, _me())
    except services.RecruitmentError as error:
        return _vacancy_page(vacancy, {"stage": str(error)}, status=_status(error))
    flash(f"The vacancy is now at the stage “{STATE_LABELS.get(to, to)}”.", "success")
    return redirect(url_for("recruitment.vacancy", vacancy_id=vacancy.id), code=303)


def _status(error: services.RecruitmentError) -> int:
    if error.status == 403:
        abort(403, str(error))
    return error.status


# ---- shortlisting and moderation ------------------------------------------------------------


def _mine(candidate: Candidate) -> dict[str, str]:
    typed = {}
    for m in db.session.scalars(
        select(ShortlistMark).where(
            ShortlistMark.candidate_id == candidate.id,
            ShortlistMark.shortlister_id == current_user.id,
        )
    ):
        if m.met is not None:
            typed[f"c-{m.criterion_key}"] = "met" if m.met else "not-met"
        elif m.score is not None:
            typed[f"c-{m.criterion_key}"] = str(m.score)
    return typed


@blueprint.route(
    "/<int:vacancy_id>/candidates/<int:candidate_id>/shortlist", methods=["GET", "POST"]
)
@access(vacancy_rule(can_view_results, "shortlister"))
def shortlist(vacancy_id: int, candidate_id: int):
    vacancy = vacancy_by_id(vacancy_id)
    candidate = _candidate(vacancy, candidate_id)
    criteria = services.shortlist_criteria(vacancy)
    scale = services.scoring_of(vacancy).scale.levels
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        form = forms.shortlist_form(criteria)()
        typed = {f"c-{c.key}": form[f"c-{c.key}"].data or "" for c in criteria}
        marks: dict[str, tuple[bool | None, int | None]] = {}
        for criterion in criteria:
            raw = typed[f"c-{criterion.key}"]
            if criterion.requirement == "essential":
                marks[criterion.key] = ({"met": True, "not-met": False}.get(raw), None)
            else:
                marks[criterion.key] = (None, forms.score_of(raw))
        try:
            with unit_of_work():
                services.save_shortlist(candidate, _me(), marks)
        except services.RecruitmentError as error:
            errors, status = _refused(error), error.status
        else:
            flash(f"Shortlisting marks for {candidate.reference} saved.", "success")
            return redirect(url_for("recruitment.vacancy", vacancy_id=vacancy.id), code=303)
    else:
        typed = _mine(candidate)
    return (
        render_template(
            "recruitment/shortlist.html",
            title=f"Shortlist {candidate.reference}",
            vacancy=vacancy,
            candidate=candidate,
            criteria=criteria,
            scale=scale,
            typed=typed,
            errors=errors,
            form=FlaskForm(),
        ),
        status,
    )


@blueprint.route(
    "/<int:vacancy_id>/candidates/<int:candidate_id>/moderate", methods=["GET", "POST"]
)
@access(vacancy_rule(can_moderate_vacancy))
def moderate(vacancy_id: int, candidate_id: int):
    vacancy = vacancy_by_id(vacancy_id)
    candidate = _candidate(vacancy, candidate_id)
    result = next(r for r in services.shortlist_results(vacancy) if r.candidate.id == candidate.id)
    disputed = result.disputed
    errors: dict[str, str] = {}
    typed: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        form = forms.moderation_form(disputed)()
        typed = {name: form[name].data or "" for name in form.data if name != "csrf_token"}
        decisions: dict[str, tuple[bool | None, int | None, str]] = {}
        for criterion in disputed:
            raw = typed.get(f"m-{criterion.key}", "")
            reason = typed.get(f"r-{criterion.key}", "")
            if criterion.requirement == "essential":
                decisions[criterion.key] = ({"met": True, "not-met": False}.get(raw), None, reason)
            else:
                decisions[criterion.key] = (None, forms.score_of(raw), reason)
        try:
            with unit_of_work():
                services.moderate(candidate, decisions, _me())
        except services.RecruitmentError as error:
            errors, status = _refused(error), error.status
        else:
            flash(f"Moderated decisions for {candidate.reference} saved.", "success")
            return redirect(url_for("recruitment.vacancy", vacancy_id=vacancy.id), code=303)
    marks = list(
        db.session.execute(
            select(ShortlistMark, User)
            .join(User, User.id == ShortlistMark.shortlister_id)
            .where(ShortlistMark.candidate_id == candidate.id)
            .order_by(User.name)
        ).all()
    )
    return (
        render_template(
            "recruitment/moderate.html",
            title=f"Moderate {candidate.reference}",
            vacancy=vacancy,
            candidate=candidate,
            result=result,
            disputed=disputed,
            marks=marks,
            scale=services.scoring_of(vacancy).scale.levels,
            typed=typed,
            errors=errors,
            form=FlaskForm(),
        ),
        status,
    )


# ---- interview slots ---------------------------------------------------------------------


@blueprint.route("/<int:vacancy_id>/candidates/<int:candidate_id>/slot", methods=["GET", "POST"])
@access(vacancy_rule(can_manage_vacancy))
def slot(vacancy_id: int, candidate_id: int):
    vacancy = vacancy_by_id(vacancy_id)
    candidate = _candidate(vacancy, candidate_id)
    form = forms.SlotForm()
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        form.validate()
        errors = form.error_dict()
        try:
            if errors:
                raise services.RecruitmentError.of(errors)
            with unit_of_work():
                services.set_slot(candidate, form.starts_at(), form.place.data or "", _me())
        except services.RecruitmentError as error:
            found = _refused(error)
            errors = {k: v for k, v in {**errors, **found}.items()}
            order = ["", "slot_date", "slot_time", "place"]
            errors = {k: errors[k] for k in order if k in errors}
            status = error.status
        else:
            flash(f"Interview slot for {candidate.reference} saved.", "success")
            return redirect(url_for("recruitment.vacancy", vacancy_id=vacancy.id), code=303)
        typed = {
            "slot_date": form.slot_date.data or "",
            "slot_time": form.slot_time.data or "",
            "place": form.place.data or "",
        }
    elif candidate.slot is not None:
        local = candidate.slot.starts_at.astimezone(forms.LONDON)
        typed = {
            "slot_date": f"{local:%d/%m/%Y}",
            "slot_time": local.strftime("%H:%M"),
            "place": candidate.slot.place,
        }
    else:
        typed = {"slot_date": "", "slot_time": "", "place": ""}
    return (
        render_template(
            "recruitment/slot.html",
            title=f"Interview slot for {candidate.reference}",
            vacancy=vacancy,
            candidate=candidate,
            typed=typed,
            errors=errors,
            form=FlaskForm(),
        ),
        status,
    )


# ---- interview scoring and agreement ---------------------------------------------------------


def _interview_page(
    vacancy: Vacancy,
    candidate: Candidate,
    *,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    agree_typed: dict[str, str] | None = None,
    agree_errors: dict[str, str] | None = None,
    status: int = 200,
):
    me = _me()
    criteria = services.interview_criteria(vacancy)
    if typed is None:
        mine = services.my_scores(candidate, me)
        typed = {}
        for key, row in mine.items():
            typed[f"s-{key}"] = str(row.score)
            typed[f"n-{key}"] = row.notes or ""
    agreed = services.agreed_scores(candidate)
    if agree_typed is None:
        agree_typed = {f"a-{key}": str(score) for key, score in agreed.items()}
    return (
        render_template(
            "recruitment/interview.html",
            title=f"Interview {candidate.reference}",
            vacancy=vacancy,
            candidate=candidate,
            criteria=criteria,
            scale=services.scoring_of(vacancy).scale.levels,
            typed=typed,
            errors=errors or {},
            agree_typed=agree_typed,
            agree_errors=agree_errors or {},
            submitted=services.has_submitted(candidate, me),
            panel=services.visible_scores(candidate, me),
            is_chair=on_panel(me, vacancy, "chair"),
            agreed=agreed,
            agreed_complete=candidate.scores_agreed_at is not None,
            waiting_for=[
                u.name
                for u in vacancy.members("interviewer")
                if not services.has_submitted(candidate, u)
            ],
            has_task=bool(services.assessment_criteria(vacancy)),
            form=FlaskForm(),
        ),
        status,
    )


@blueprint.route(
    "/<int:vacancy_id>/candidates/<int:candidate_id>/interview", methods=["GET", "POST"]
)
@access(vacancy_rule(can_view_vacancy, "interviewer"))
def interview(vacancy_id: int, candidate_id: int):
    vacancy = vacancy_by_id(vacancy_id)
    candidate = _interview_candidate(vacancy, candidate_id)
    if request.method == "GET":
        return _interview_page(vacancy, candidate)
    criteria = services.interview_criteria(vacancy)
    form = forms.interview_form(criteria)()
    typed = {
        name: form[name].data or "" for name in form.data if name not in ("csrf_token", "action")
    }
    scores = {
        c.key: (forms.score_of(typed.get(f"s-{c.key}")), typed.get(f"n-{c.key}", ""))
        for c in criteria
    }
    submit = form["action"].data == "submit"
    try:
        with unit_of_work():
            services.save_scores(candidate, _me(), scores, submit)
    except services.RecruitmentError as error:
        return _interview_page(
            vacancy, candidate, typed=typed, errors=_refused(error), status=error.status
        )
    flash(
        "Scores submitted: you can now see the panel's scores."
        if submit
        else "Scores saved as a draft (not yet submitted).",
        "success",
    )
    return redirect(
        url_for("recruitment.interview", vacancy_id=vacancy.id, candidate_id=candidate.id),
        code=303,
    )


@blueprint.post("/<int:vacancy_id>/candidates/<int:candidate_id>/agree")
@access(vacancy_rule(can_view_results, "chair"))
def agree(vacancy_id: int, candidate_id: int):
    vacancy = vacancy_by_id(vacancy_id)
    candidate = _candidate(vacancy, candidate_id)
    criteria = services.interview_criteria(vacancy)
    form = forms.agree_form(criteria)()
    typed = {f"a-{c.key}": form[f"a-{c.key}"].data or "" for c in criteria}
    scores = {
        c.key: score for c in criteria if (score := forms.score_of(typed[f"a-{c.key}"])) is not None
    }
    complete = form["action"].data != "draft"
    try:
        with unit_of_work():
            services.save_agreed(candidate, _me(), scores, complete)
    except services.RecruitmentError as error:
        return _interview_page(
            vacancy,
            candidate,
            agree_typed=typed,
            agree_errors=_refused(error),
            status=error.status,
        )
    if complete:
        flash(f"Agreed scores for {candidate.reference} saved.", "success")
        return redirect(url_for("recruitment.ranking", vacancy_id=vacancy.id), code=303)
    flash(
        f"Agreed scores for {candidate.reference} saved as a draft: the ranking shows them "
        "as not agreed yet.",
        "success",
    )
    return redirect(
        url_for("recruitment.interview", vacancy_id=vacancy.id, candidate_id=candidate.id),
        code=303,
    )


@blueprint.route(
    "/<int:vacancy_id>/candidates/<int:candidate_id>/assessment", methods=["GET", "POST"]
)
@access(vacancy_rule(can_view_results, "chair"))
def task(vacancy_id: int, candidate_id: int):
    vacancy = vacancy_by_id(vacancy_id)
    candidate = _candidate(vacancy, candidate_id)
    criteria = services.assessment_criteria(vacancy)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        form = forms.task_form(criteria)()
        typed = {f"t-{c.key}": form[f"t-{c.key}"].data or "" for c in criteria}
        scores = {
            c.key: score
            for c in criteria
            if (score := forms.score_of(typed[f"t-{c.key}"])) is not None
        }
        try:
            with unit_of_work():
                services.save_task_scores(candidate, _me(), scores)
        except services.RecruitmentError as error:
            errors, status = _refused(error), error.status
        else:
            flash(f"Assessment task scores for {candidate.reference} saved.", "success")
            return redirect(url_for("recruitment.ranking", vacancy_id=vacancy.id), code=303)
    else:
        typed = {f"t-{k}": str(v) for k, v in services.task_scores(candidate).items()}
    return (
        render_template(
            "recruitment/task.html",
            title=f"Assessment task for {candidate.reference}",
            vacancy=vacancy,
            candidate=candidate,
            criteria=criteria,
            scale=services.scoring_of(vacancy).scale.levels,
            typed=typed,
            errors=errors,
            form=FlaskForm(),
        ),
        status,
    )


# ---- ranking, offers and appointing -------------------------------------------------------------


@blueprint.get("/<int:vacancy_id>/ranking")
@access(vacancy_rule(can_view_results))
def ranking(vacancy_id: int):
    vacancy = vacancy_by_id(vacancy_id)
    return _ranking_page(vacancy)


def _ranking_page(vacancy: Vacancy, errors: dict | None = None, status: int = 200):
    return (
        render_template(
            "recruitment/ranking.html",
            title=f"{vacancy.title}: ranking",
            vacancy=vacancy,
            ranked=services.ranking(vacancy),
            can_manage=can_manage_vacancy(_me(), vacancy),
            rule=services.scoring_of(vacancy).appointable_rule.description,
            has_task=bool(services.assessment_criteria(vacancy)),
            errors=errors or {},
            form=FlaskForm(),
        ),
        status,
    )


@blueprint.post("/<int:vacancy_id>/candidates/<int:candidate_id>/offer")
@access(vacancy_rule(can_manage_vacancy))
def offer(vacancy_id: int, candidate_id: int):
    vacancy = vacancy_by_id(vacancy_id)
    candidate = _candidate(vacancy, candidate_id)
    withdraw = request.form.get("action") == "withdraw"
    try:
        with unit_of_work():
            if withdraw:
                services.withdraw_offer(candidate, _me())
            else:
                services.make_offer(candidate, _me())
    except services.RecruitmentError as error:
        return _ranking_page(vacancy, {"offer": str(error)}, _status(error))
    flash(
        f"Offer to {candidate.reference} withdrawn."
        if withdraw
        else f"Conditional offer made to {candidate.reference}: record its checks, then appoint.",
        "success",
    )
    return redirect(url_for("recruitment.ranking", vacancy_id=vacancy.id), code=303)


def _supervisors(vacancy: Vacancy) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.active,
                User.roles.any(
                    (RoleAssignment.role == Role.SUPERVISOR)
                    & (RoleAssignment.team_id == vacancy.team_id)
                ),
            )
            .order_by(User.name)
        )
    )


@blueprint.route("/<int:vacancy_id>/candidates/<int:candidate_id>/appoint", methods=["GET", "POST"])
@access(vacancy_rule(can_manage_vacancy))
def appoint(vacancy_id: int, candidate_id: int):
    vacancy = vacancy_by_id(vacancy_id)
    candidate = _candidate(vacancy, candidate_id)
    supervisors = _supervisors(vacancy)
    form = forms.AppointForm()
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        form.validate()
        parsed = form.error_dict()
        chosen = {str(u.id): u for u in supervisors}.get(form.supervisor.data or "")
        start = None if "start_date" in parsed else form.start
        try:
            with unit_of_work():
                done = services.appoint(candidate, form.email.data or "", start, chosen, _me())
        except services.RecruitmentError as error:
            found = {**parsed, **_refused(error)}
            order = ["", "email", "start_date", "supervisor"]
            errors = {k: found[k] for k in order if k in found}
            status = error.status
        else:
            modules = list(
                db.session.scalars(
                    select(Module)
                    .where(
                        Module.version_id == vacancy.framework_version_id,
                        Module.key.in_(done.priority_modules or ["-"]),
                    )
                    .order_by(Module.title)
                )
            )
            return render_template(
                "recruitment/appointed.html",
                title=f"{candidate.reference} appointed",
                vacancy=vacancy,
                candidate=candidate,
                person=done.user,
                link=password_links.link_url(done.link),
                assessment_id=done.assessment_id,
                modules=modules,
                training_due=done.training_due,
            )
        typed = {
            "email": form.email.data or "",
            "start_date": form.start_date.data or "",
            "supervisor": form.supervisor.data or "",
        }
    else:
        # asked for empty: the candidate's address is personal, the work one is new
        typed = {"email": "", "start_date": "", "supervisor": ""}
    return (
        render_template(
            "recruitment/appoint.html",
            title=f"Appoint {candidate.reference}",
            vacancy=vacancy,
            candidate=candidate,
            supervisors=supervisors,
            typed=typed,
            errors=errors,
            modules_count=len(services.priority_modules_for_appointment(vacancy)),
            waiting=services.checks.waiting_sentence(candidate),
            form=FlaskForm(),
        ),
        status,
    )


@blueprint.get("/<int:vacancy_id>/workbook.xlsx")
@access(vacancy_rule(can_manage_vacancy))
def workbook(vacancy_id: int):
    vacancy = vacancy_by_id(vacancy_id)
    with unit_of_work():
        content, rows = vacancy_workbook(vacancy)
        record("export", _me(), target=f"vacancy:{vacancy.id}", rows=rows)
    return send_xlsx(content, f"vacancy-{vacancy.id}-interview-scores.xlsx")
