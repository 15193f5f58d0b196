"""What the home page shows about supervision, as plain data (`ui/home.py` wraps it).

Keyworkers: the next session, what is due and by when. Supervisors: their supervisees'
overdue self-assessments, assessments waiting and for how long, upcoming sessions. Managers:
their teams' overdue self-assessments, validations waiting, validations expiring.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import url_for

from competency_app.accounts import services as accounts
from competency_app.accounts.models import Role, User
from competency_app.assessments import looked_at
from competency_app.assessments.models import Assessment, Status
from competency_app.common.dates import how_long, london_day, uk_date, uk_datetime
from competency_app.common.home import HomeItem, HomeSection
from competency_app.framework.models import FrameworkVersion
from competency_app.supervision import policy
from competency_app.supervision.models import SupervisionSession
from competency_app.supervision.services import (
    Review,
    ReviewState,
    SinceLast,
    expiring_validations,
    next_session,
    review_of,
    reviews_of,
    since_last_supervision,
    team_practitioners,
    upcoming_for,
    waiting_validations,
)

# Waiting longer than this for validation is shown as late.
LATE_VALIDATION_DAYS = 28


def keyworker_lines(user: User, version: FrameworkVersion, now: datetime) -> list[str]:
    """The next session and what is due by when, naming the session the self-assessment
    is for (replaces 'due before your next supervision': the dates exist now)."""
    lines = []
    upcoming = next_session(user, now)
    if upcoming is not None:
        place = f", {upcoming.place}" if upcoming.place else ""
        lines.append(
            f"Your next supervision is on {uk_datetime(upcoming.starts_at)} with "
            f"{upcoming.supervisor.name}{place}."
        )
    else:
        lines.append("No supervision session is booked for you yet: ask your supervisor.")
    review = review_of(user, version, now)
    if review.open_assessment is not None and review.open_assessment.status == Status.RETURNED:
        lines.append(_returned_line(review.open_assessment, upcoming, version, now))
    elif review.state is ReviewState.SUBMITTED:
        assert review.open_assessment is not None
        lines.append(_submitted_line(review.open_assessment, upcoming))
    elif review.state in (ReviewState.DUE, ReviewState.OVERDUE):
        assert review.session is not None
        which = (
            "that session"
            if upcoming is not None and review.session.id == upcoming.id
            else f"your supervision on {uk_date(review.session.starts_at)} with "
            f"{review.session.supervisor.name}"
        )
        lines.append(
            f"Your self-assessment is for {which}: it is due by {uk_date(review.due_on)}."
            if review.state is ReviewState.DUE
            else f"Your self-assessment is overdue: it was due by {uk_date(review.due_on)}, "
            f"for {which}."
        )
    elif review.state is ReviewState.NO_SESSION:
        lines.append(
            "Your competency review is due: your self-assessment will be due "
            f"{version.settings.review_cycle.due_days} days before the supervision booked for it."
        )
    elif review.state is ReviewState.NOT_DUE:
        lines.append(
            f"Your next competency review is due from {uk_date(review.review_due)}: "
            f"no self-assessment is due before then. {policy.review(version.settings)}."
        )
    # the modules assigned to the keyworker are listed in the training section
    # (`training/home.py`), not here
    return lines


def _since_text(since: SinceLast, own: bool) -> str:
    who = "Your last supervision was" if own else f"{since.person.name}: last supervision"
    if since.last is None:
        return (
            "You have had no supervision yet"
            if own
            else f"{since.person.name}: no supervision held yet"
        )
    weeks = f"{since.weeks} week{'s' if since.weeks != 1 else ''}"
    return f"{who} {weeks} ago, on {uk_date(since.last)}"


def _since_item(since: SinceLast, own: bool, version: FrameworkVersion) -> HomeItem:
    text = _since_text(since, own)
    if since.overdue:
        rule = policy.alert(version.settings)
        text += f" ({rule[0].lower()}{rule[1:]})"
    return HomeItem(
        text,
        url_for("supervision.person_sessions", user_id=since.person.id),
        "Supervision overdue"
        if since.overdue
        else ("Supervised" if since.last else "No supervision yet"),
        "nhsuk-tag--red"
        if since.overdue
        else ("nhsuk-tag--green" if since.last else "nhsuk-tag--grey"),
        london_day(since.last) if since.last else None,
    )


def keyworker_items(user: User, version: FrameworkVersion, now: datetime) -> list[HomeItem]:
    """Weeks since the person's last supervision, tagged overdue past the file's threshold."""
    return [_since_item(s, True, version) for s in since_last_supervision([user], version, now)]


def _submitted_line(assessment: Assessment, upcoming: SupervisionSession | None) -> str:
    assert assessment.submitted_at is not None  # submitted
    return (
        f"Self-assessment {assessment.cycle} was submitted on "
        f"{uk_date(assessment.submitted_at)}. {_looked_at(upcoming)}"
    )


def _looked_at(upcoming: SupervisionSession | None) -> str:
    if upcoming is None:
        return (
            "Your supervisor will look at it with you at your next supervision: none is "
            "booked yet, so ask them to book one."
        )
    return (
        f"{upcoming.supervisor.name} will look at it with you at your supervision on "
        f"{uk_datetime(upcoming.starts_at)}."
    )


@looked_at.provide
def _looked_at_next_session(assessment: Assessment) -> str | None:
    """After "Submitted": when the supervisor will look at it (the next booked session)."""
    return _looked_at(next_session(assessment.person))


def _returned_line(
    assessment: Assessment,
    upcoming: SupervisionSession | None,
    version: FrameworkVersion,
    now: datetime,
) -> str:
    """A returned self-assessment is wanted back for the next session, not at the next
    review: due `due_days` before that session (or now, when that day has passed)."""
    start = f"Your supervisor returned self-assessment {assessment.cycle} for changes"
    if upcoming is None:
        return f"{start}: submit it again when it is ready. No supervision is booked yet."
    due = version.settings.review_cycle.self_assessment_due(london_day(upcoming.starts_at))
    when = "as soon as you can" if due <= london_day(now) else f"by {uk_date(due)}"
    return (
        f"{start}: submit it again {when}, for your supervision on "
        f"{uk_date(upcoming.starts_at)} with {upcoming.supervisor.name}."
    )


def keyworker_links(user: User) -> list[tuple[str, str]]:
    return [("Your supervision sessions", url_for("supervision.person_sessions", user_id=user.id))]


def _overdue_item(review: Review, today: date) -> HomeItem:
    assert review.due_on is not None and review.session is not None
    days = review.days_overdue(today)
    return HomeItem(
        f"{review.person.name}: self-assessment overdue by {days} day{'s' if days != 1 else ''} "
        f"(due {uk_date(review.due_on)}, for the session on {uk_date(review.session.starts_at)})",
        url_for("supervision.person_sessions", user_id=review.person.id),
        "Overdue",
        "nhsuk-tag--red",
        review.due_on,
    )


def _waiting_items(people: list[User], now: datetime, validate_links: bool) -> list[HomeItem]:
    items = []
    for assessment in waiting_validations(people):
        assert assessment.submitted_at is not None  # submitted
        late = (now - assessment.submitted_at).days > LATE_VALIDATION_DAYS
        items.append(
            HomeItem(
                f"{assessment.person.name}: self-assessment {assessment.cycle} waiting for "
                f"validation for {how_long(assessment.submitted_at, now)}",
                url_for("assessments.validate", assessment_id=assessment.id)
                if validate_links
                else url_for("assessments.overview", assessment_id=assessment.id),
                "Waiting" if not late else "Waiting too long",
                "nhsuk-tag--orange" if late else "nhsuk-tag--blue",
                london_day(assessment.submitted_at),
            )
        )
    return items


def supervisor_block(user: User, version: FrameworkVersion, now: datetime) -> HomeSection | None:
    if Role.SUPERVISOR not in user.role_set:
        return None
    people = accounts.supervisees(user)
    if not people:
        return None
    block = HomeSection("Supervision sessions and due dates")
    today = london_day(now)
    reviews = reviews_of(people, version, now)
    overdue = sorted((r for r in reviews if r.overdue), key=lambda r: r.due_on or today)
    block.items += [_overdue_item(r, today) for r in overdue]
    # weeks since each supervisee's last supervision: the overdue next, the others last
    since = since_last_supervision(people, version, now)
    block.items += [_since_item(s, False, version) for s in since if s.overdue]
    block.items += _waiting_items(people, now, validate_links=True)
    due = sorted(
        (r for r in reviews if r.state is ReviewState.DUE), key=lambda r: r.due_on or today
    )
    for review in due:
        assert review.session is not None
        block.items.append(
            HomeItem(
                f"{review.person.name}: self-assessment due by {uk_date(review.due_on)}",
                url_for("supervision.person_sessions", user_id=review.person.id),
                "Due",
                "nhsuk-tag--yellow",
                review.due_on,
            )
        )
    for session in upcoming_for(people, now, limit=5):
        block.items.append(
            HomeItem(
                f"{session.supervisee.name}: supervision on {uk_datetime(session.starts_at)}",
                url_for("supervision.record", session_id=session.id),
                "Booked",
                "nhsuk-tag--grey",
                london_day(session.starts_at),
            )
        )
    block.items += [_since_item(s, False, version) for s in since if not s.overdue]
    late = sum(1 for s in since if s.overdue)
    block.lines.append(
        f"{late} of {len(since)} {'supervisee' if len(since) == 1 else 'supervisees'} "
        f"overdue for supervision. {policy.alert(version.settings)}."
    )
    unbooked = [r.person.name for r in reviews if r.state is ReviewState.NO_SESSION]
    block.lines.append(
        f"{len(overdue)} overdue self-{'assessment' if len(overdue) == 1 else 'assessments'}; "
        f"{len(due)} due soon."
    )
    if unbooked:
        block.lines.append(f"Review due with no session booked: {', '.join(unbooked)}.")
    block.links.append(("All supervision sessions and due dates", url_for("supervision.overview")))
    return block


def manager_block(user: User, version: FrameworkVersion, now: datetime) -> HomeSection | None:
    if not user.team_ids(Role.MANAGER):
        return None
    people = team_practitioners(user)
    block = HomeSection("Your teams' supervision")
    today = london_day(now)
    reviews = reviews_of(people, version, now)
    overdue = sorted((r for r in reviews if r.overdue), key=lambda r: r.due_on or today)
    block.items += [_overdue_item(r, today) for r in overdue]
    waiting = _waiting_items(people, now, validate_links=False)
    block.items += waiting
    names = {p.id: p.name for p in people}
    expiring = expiring_validations(people, version, now)
    for expiry in expiring:
        expired = expiry.first <= now
        block.items.append(
            HomeItem(
                f"{names[expiry.person_id]}: {expiry.skills} validated "
                f"{'skill' if expiry.skills == 1 else 'skills'} "
                + (
                    f"expired or expiring, the first on {uk_date(expiry.first)}"
                    if expired
                    else f"expiring, the first on {uk_date(expiry.first)}"
                ),
                url_for("assessments.profile", user_id=expiry.person_id),
                "Expired" if expired else "Expiring",
                "nhsuk-tag--red" if expired else "nhsuk-tag--yellow",
                london_day(expiry.first),
            )
        )
    block.lines.append(
        f"{len(overdue)} overdue self-{'assessment' if len(overdue) == 1 else 'assessments'}, "
        f"{len(waiting)} waiting for validation, {len(expiring)} "
        f"{'person' if len(expiring) == 1 else 'people'} with validations expiring."
    )
    block.links.append(("Supervision sessions and due dates", url_for("supervision.overview")))
    return block
