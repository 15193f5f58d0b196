"""Every table holding personal data, declared once: whose data a row is, who acted in it,
how it goes into a person's copy of their data, and how long it is kept.

A row is ABOUT a subject: a member of staff (`app_user`) or a candidate. It names its
subject by a column of its own (`subject`), or through a parent row that does (`through`:
a self-rating is about the person whose assessment holds it). Other people named in it
acted (`actors`: the supervisor who validated, the panel member who scored): a copy of the
subject's data shows them by name only, and a copy of an actor's data does not hold the
row (it is about someone else). `hidden` columns never leave the product (password and
token hashes).

`tests/privacy/test_registry.py` fails when a table with a column referring to a person or
a candidate, or a table below one that does, is missing here or leaves such a column
undeclared, as the authorisation matrix fails on a route without a rule.
"""

from __future__ import annotations

from dataclasses import dataclass

STAFF = "staff"
CANDIDATE = "candidate"

# How an erasure treats a table's rows about the person (`erasure.py`):
DELETE = "delete"  # the rows go
KEEP = "keep"  # the rows stay, their `clear` columns emptied: facts the figures count
ANONYMISE = "anonymise"  # the row stays under a pseudonym (the person, an application)
ERASURES = (DELETE, KEEP, ANONYMISE)


@dataclass(frozen=True)
class Holding:
    table: str
    section: str  # the part of a person's copy the rows go in
    purpose: str  # why the product holds it, in a sentence
    kept: str  # the retention class (configuration names how long each is kept)
    subject: str | None = None  # the column naming the person the row is about
    through: tuple[str, str] | None = None  # (column, parent table) when the parent names them
    actors: tuple[str, ...] = ()  # columns naming people who acted, shown by name only
    hidden: tuple[str, ...] = ()  # columns that never leave the product
    kind: str = STAFF  # whose data: staff or a candidate
    # Rows naming people only as actors (nobody's data in particular), or derived figures.
    about_nobody: bool = False
    erase: str = ""  # DELETE, KEEP or ANONYMISE: every holding says which
    clear: tuple[str, ...] = ()  # the free-text columns emptied when rows are kept


SUPERVISION = "Supervision"
ASSESSMENTS = "Self-assessments and validation"
TRAINING = "Training"
ACCOUNT = "Account and sign-in"
NOTIFICATIONS = "Notifications and downloads"
RECRUITMENT = "Recruitment"

HOLDINGS: tuple[Holding, ...] = (
    # ---- the account ----------------------------------------------------------------
    Holding(
        "app_user",
        ACCOUNT,
        "Who you are, your employer, and the dates you started and leave.",
        "staff_record",
        subject="id",
        hidden=("password_hash", "session_version"),
        erase=ANONYMISE,
    ),
    Holding(
        "role_assignment",
        ACCOUNT,
        "Your roles and the teams you hold them in.",
        "staff_record",
        subject="user_id",
        erase=KEEP,
    ),
    Holding(
        "supervision_link",
        SUPERVISION,
        "Who supervises you.",
        "staff_record",
        subject="supervisee_id",
        actors=("supervisor_id",),
        erase=DELETE,
    ),
    Holding(
        "sso_identity",
        ACCOUNT,
        "The sign-in accounts at your organisation's identity provider linked to yours.",
        "staff_record",
        subject="user_id",
        erase=DELETE,
    ),
    Holding(
        "password_link",
        ACCOUNT,
        "Set-your-password links sent to you (only when they were made and used).",
        "sign_in",
        subject="user_id",
        hidden=("token_hash",),
        erase=DELETE,
    ),
    Holding(
        "api_token",
        ACCOUNT,
        "Your API tokens (names and dates; never the token itself).",
        "sign_in",
        subject="owner_id",
        hidden=("token_hash",),
        erase=DELETE,
    ),
    Holding(
        "audit_event",
        ACCOUNT,
        "The audit log's record of what you did, and of what was done to your account.",
        "audit",
        subject="actor_id",
        erase=ANONYMISE,
    ),
    # ---- self-assessment and validation ------------------------------------------------
    Holding(
        "assessment",
        ASSESSMENTS,
        "Your self-assessments against the framework and their progress.",
        "competence_record",
        subject="person_id",
        actors=("validated_by_id", "updated_by_id"),
        erase=KEEP,
        clear=("return_comment",),
    ),
    Holding(
        "assessment_event",
        ASSESSMENTS,
        "Each step of your self-assessments (submitted, returned, validated).",
        "competence_record",
        through=("assessment_id", "assessment"),
        actors=("actor_id",),
        erase=KEEP,
        clear=("detail",),
    ),
    Holding(
        "self_rating",
        ASSESSMENTS,
        "Your own rating of each skill and the evidence you gave.",
        "competence_record",
        through=("assessment_id", "assessment"),
        erase=KEEP,
        clear=("evidence",),
    ),
    Holding(
        "value_reflection",
        ASSESSMENTS,
        "Your reflections on the core values.",
        "competence_record",
        through=("assessment_id", "assessment"),
        erase=DELETE,
    ),
    Holding(
        "value_review",
        ASSESSMENTS,
        "Your supervisor's review of your reflections on the core values.",
        "competence_record",
        through=("assessment_id", "assessment"),
        actors=("reviewed_by_id",),
        erase=KEEP,
        clear=("comment",),
    ),
    Holding(
        "validation_draft",
        ASSESSMENTS,
        "Your supervisor's ratings saved before they signed off.",
        "competence_record",
        through=("assessment_id", "assessment"),
        actors=("saved_by_id",),
        erase=DELETE,
    ),
    Holding(
        "validated_rating",
        ASSESSMENTS,
        "Every validated rating of yours, with its comment and expiry.",
        "competence_record",
        subject="person_id",
        actors=("validated_by_id",),
        erase=KEEP,
        clear=("comment",),
    ),
    Holding(
        "current_rating",
        ASSESSMENTS,
        "Your current validated level of each skill (kept for the team's coverage).",
        "competence_record",
        subject="person_id",
        erase=KEEP,
    ),
    # ---- supervision ------------------------------------------------------------------
    Holding(
        "supervision_schedule",
        SUPERVISION,
        "The rhythm of your supervision sessions.",
        "supervision_record",
        subject="supervisee_id",
        actors=("created_by_id",),
        erase=DELETE,
    ),
    Holding(
        "supervision_session",
        SUPERVISION,
        "Your supervision sessions, their notes and agreed actions.",
        "supervision_record",
        subject="supervisee_id",
        actors=("supervisor_id", "created_by_id", "cancelled_by_id", "led_by_id"),
        erase=DELETE,
    ),
    Holding(
        "supervision_prompt_note",
        SUPERVISION,
        "Notes on each discussion prompt of your sessions.",
        "supervision_record",
        through=("session_id", "supervision_session"),
        actors=("updated_by_id",),
        erase=DELETE,
    ),
    Holding(
        "supervision_session_assignment",
        SUPERVISION,
        "The training each session looked at.",
        "supervision_record",
        through=("session_id", "supervision_session"),
        erase=DELETE,
    ),
    Holding(
        "supervision_group",
        SUPERVISION,
        "A peer or group session booked for several people (who booked it).",
        "supervision_record",
        actors=("created_by_id",),
        about_nobody=True,
        erase=KEEP,
    ),
    # ---- training -------------------------------------------------------------------
    Holding(
        "module_completion",
        TRAINING,
        "The e-learning and training you completed.",
        "training_record",
        subject="person_id",
        actors=("recorded_by_id",),
        erase=KEEP,
        clear=("certificate_ref",),
    ),
    Holding(
        "training_assignment",
        TRAINING,
        "Training assigned to you, and by whom.",
        "training_record",
        subject="person_id",
        actors=("assigned_by_id",),
        erase=DELETE,
    ),
    # ---- notifications and jobs ---------------------------------------------------------
    Holding(
        "notification",
        NOTIFICATIONS,
        "Reminders and messages sent to you, and whether the email went.",
        "notification",
        subject="user_id",
        erase=DELETE,
    ),
    Holding(
        "notification_preference",
        NOTIFICATIONS,
        "Which messages you asked to have by email.",
        "staff_record",
        subject="user_id",
        erase=DELETE,
    ),
    Holding(
        "job",
        NOTIFICATIONS,
        "Downloads and imports you asked for (the files are deleted after a day).",
        "notification",
        subject="owner_id",
        erase=KEEP,
    ),
    Holding(
        "job_requester",
        NOTIFICATIONS,
        "When you asked for each download or import.",
        "notification",
        subject="user_id",
        erase=DELETE,
    ),
    Holding(
        "local_course",
        TRAINING,
        "A course an organisation runs (who added it to the catalogue).",
        "training_record",
        actors=("created_by_id",),
        about_nobody=True,
        erase=KEEP,
    ),
    # ---- recruitment ------------------------------------------------------------------
    Holding(
        "vacancy",
        RECRUITMENT,
        "Vacancies (who opened one).",
        "recruitment",
        actors=("created_by_id",),
        about_nobody=True,
        erase=KEEP,
    ),
    Holding(
        "panel_member",
        RECRUITMENT,
        "The interview panels you sit on.",
        "recruitment",
        subject="user_id",
        erase=KEEP,
    ),
    Holding(
        "candidate",
        RECRUITMENT,
        "An application: the candidate, and the member of staff they became when appointed.",
        "candidate",
        subject="staff_user_id",
        kind=CANDIDATE,
        erase=ANONYMISE,
    ),
    *(
        Holding(
            table,
            RECRUITMENT,
            purpose,
            "candidate",
            subject="candidate_id",
            actors=actors,
            kind=CANDIDATE,
            erase=KEEP,
            clear=clear,
        )
        for table, purpose, actors, clear in (
            (
                "shortlist_mark",
                "Each shortlister's mark of each criterion.",
                ("shortlister_id",),
                (),
            ),
            (
                "shortlist_moderation",
                "The moderated shortlisting marks.",
                ("moderator_id",),
                ("reason",),
            ),
            ("interview_slot", "The interview's time and place.", (), ()),
            (
                "interview_score",
                "Each panel member's interview scores.",
                ("panel_member_id",),
                ("notes",),
            ),
            ("interview_submission", "When each panel member submitted.", ("panel_member_id",), ()),
            ("agreed_score", "The panel's agreed score of each criterion.", ("chair_id",), ()),
            ("assessment_score", "Scores of the assessment task.", ("assessor_id",), ()),
            (
                "pre_employment_check",
                "Pre-employment checks of an offer.",
                ("recorded_by_id",),
                ("waiver_reason",),
            ),
        )
    ),
)

BY_TABLE = {holding.table: holding for holding in HOLDINGS}

# A candidate who became a member of staff: their application is part of that person's
# data (the `candidate` row names them by `staff_user_id`); the rows below the candidate
# are about the candidate.
CANDIDATE_TABLE = "candidate"

# Tables that hold people's ids without a foreign key, worked out from the tables above and
# recomputed from them (so a copy of a person's data is complete without them, and an
# erasure recomputes them).
DERIVED = {
    "stored_team_figures": "each team's coverage tally, worked out from current ratings",
}


def staff_holdings() -> list[Holding]:
    """The holdings that go in a member of staff's copy of their data."""
    return [h for h in HOLDINGS if not h.about_nobody]
