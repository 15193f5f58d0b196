"""Every kind of notification, with its texts (NHS content style: plain words, the action
first, a link to the page; never ratings, scores or candidates' details).

`{fields}` in the texts come from the notification's `fields`; `{due}` is its due date in
UK form. A kind whose source is not written yet is catalogued all the same, so that
people can set their preference and a source only has to produce its notifications (see
docs/architecture.md, "Adding a reminder source").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    key: str
    label: str  # for the preferences page
    title: str  # the email subject and the in-app line
    body: str  # one or two sentences
    action: str  # the link's text
    optional: bool = True  # account emails cannot be turned off
    # The email carries a secret link (set your password, a panel invitation): sent by its
    # own job with the link in the job's arguments, never stored, never listed in-app.
    carries_link: bool = False


KINDS: dict[str, Kind] = {}


def _kind(*args, **kwargs) -> Kind:
    kind = Kind(*args, **kwargs)
    KINDS[kind.key] = kind
    return kind


ASSESSMENT_SUBMITTED = _kind(
    "assessment_submitted",
    "A supervisee submits a self-assessment",
    "{person} has submitted a self-assessment",
    "{person} has submitted self-assessment {cycle} for you to validate in supervision.",
    "Validate the self-assessment",
)
ASSESSMENT_RETURNED = _kind(
    "assessment_returned",
    "Your self-assessment is returned to you",
    "Your self-assessment has been returned",
    "Your supervisor has returned self-assessment {cycle} with comments. Read them, make "
    "your changes and submit it again.",
    "Read the comments",
)
ASSESSMENT_VALIDATED = _kind(
    "assessment_validated",
    "Your self-assessment is validated",
    "Your self-assessment has been validated",
    "Your supervisor has signed off self-assessment {cycle}. Your profile shows the "
    "validated levels.",
    "See your profile",
)
SELF_ASSESSMENT_DUE = _kind(
    "self_assessment_due",
    "Your self-assessment is due soon",
    "Your self-assessment is due on {due}",
    "Complete and submit your self-assessment by {due}, before your supervision.",
    "Continue your self-assessment",
)
SELF_ASSESSMENT_OVERDUE = _kind(
    "self_assessment_overdue",
    "Your self-assessment is overdue",
    "Your self-assessment is overdue",
    "Your self-assessment was due on {due}. Submit it as soon as you can.",
    "Continue your self-assessment",
)
RECORDS_PAST_RETENTION = _kind(
    "records_past_retention",
    "Records pass their retention period (HR and administrators)",
    "Records have passed their retention period",
    "{count} of {organisation}'s records have passed their retention period. Review them "
    "and confirm which to erase.",
    "Review the records",
)
SUPERVISION_TOMORROW = _kind(
    "supervision_tomorrow",
    "A supervision session is tomorrow",
    "Supervision tomorrow, {due}",
    "You have a supervision session tomorrow, {due}, at {time}{with_whom}.",
    "See the session",
)
VALIDATIONS_EXPIRING = _kind(
    "validations_expiring",
    "Your validated skills are about to expire",
    "{count} validated skills expire on {due}",
    "{count} of your validated skills expire on {due}, in {days} days or less. Ask your "
    "supervisor to reassess them in your next self-assessment.",
    "See your profile",
)
VALIDATIONS_EXPIRED = _kind(
    "validations_expired",
    "Your validated skills have expired",
    "{count} validated skills expired on {due}",
    "{count} of your validated skills expired on {due} and no longer count for your team. "
    "Reassess them in your next self-assessment.",
    "See your profile",
)
TRAINING_EXPIRING = _kind(
    "training_expiring",
    "Your required training is about to expire",
    "Required training expires on {due}",
    "Your required training {module} expires on {due}, in {days} days or less. Book the refresher.",
    "See your training",
)
TRAINING_EXPIRED = _kind(
    "training_expired",
    "Your required training has expired",
    "Required training expired on {due}",
    "Your required training {module} expired on {due}. Complete the refresher as soon as you can.",
    "See your training",
)
MODULES_ASSIGNED = _kind(
    "modules_assigned",
    "Modules are assigned to you",
    "E-learning assigned to you: complete it by {due}",
    "{by} has assigned you the e-learning module {module}, to complete by {due}.",
    "See your development plan",
)
SHORTLISTING_REQUESTED = _kind(
    "shortlisting_requested",
    "You are asked to shortlist candidates",
    "Shortlisting for {vacancy}",
    "You are a shortlister for {vacancy}. Mark each candidate against the person "
    "specification by {due}.",
    "Shortlist the candidates",
)
SCORES_REQUESTED = _kind(
    "scores_requested",
    "You are asked to score interviews",
    "Interview scores for {vacancy}",
    "You are on the interview panel for {vacancy}. Score each candidate you interviewed "
    "and submit your scores.",
    "Score the interviews",
)
AGREED_SCORES_READY = _kind(
    "agreed_scores_ready",
    "Interview scores are ready to agree",
    "Interview scores ready to agree for {vacancy}",
    "Every panel member has submitted their interview scores for candidate {reference} "
    "for {vacancy}. As chair, record the agreed scores.",
    "Record the agreed scores",
)
PASSWORD_LINK = _kind(
    "password_link",
    "Your account",
    "Choose your password for the keyworking competency tracker",
    "An account has been made for you. Choose your password through this link; it works "
    "once and expires on {due}.",
    "Choose your password",
    optional=False,
    carries_link=True,
)
PANEL_INVITATION = _kind(
    "panel_invitation",
    "Your invitation to an interview panel",
    "You are invited to the interview panel for {vacancy}",
    "You are invited to sit on the interview panel for {vacancy}. Choose your password "
    "through this link to see the candidates you will interview and score them; it works "
    "once and expires on {due}.",
    "Accept the invitation",
    optional=False,
    carries_link=True,
)
LINK_KINDS = frozenset(key for key, kind in KINDS.items() if kind.carries_link)
