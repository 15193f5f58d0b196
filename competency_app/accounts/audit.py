"""The one catalogue of audit actions: every event in the log is one of these.

`record()` (accounts/services.py) refuses anything else, so a typo cannot create an action
that the administrators' filter does not offer.
"""

from __future__ import annotations

import enum


class AuditAction(enum.StrEnum):
    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SSO_SIGN_IN_FAILED = "sso_sign_in_failed"
    SSO_LINK_REMOVED = "sso_link_removed"
    SIGN_OUT = "sign_out"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - an action name, not a password
    PASSWORD_RESET = "password_reset"  # noqa: S105 - an action name, not a password
    PASSWORD_LINK_ISSUED = "password_link_issued"  # noqa: S105 - an action name, not a password
    PASSWORD_SET_BY_LINK = "password_set_by_link"  # noqa: S105 - an action name, not a password
    USER_CREATED = "user_created"
    USER_UPDATED = "user_updated"
    USER_DISABLED = "user_disabled"
    USER_ENABLED = "user_enabled"
    ROLES_CHANGED = "roles_changed"
    TEAM_CHANGED = "team_changed"
    SUPERVISOR_CHANGED = "supervisor_changed"
    LEAVING_DATE_CHANGED = "leaving_date_changed"
    START_DATE_CHANGED = "start_date_changed"
    TEAM_CREATED = "team_created"
    STAFF_IMPORTED = "staff_imported"
    COMPLETIONS_IMPORTED = "completions_imported"
    MODULE_COMPLETED = "module_completed"
    MODULE_ASSIGNED = "module_assigned"
    MODULE_ASSIGNMENT_CANCELLED = "module_assignment_cancelled"
    EXPORT = "export"
    ASSESSMENT_SUBMITTED = "assessment_submitted"
    ASSESSMENT_VALIDATED = "assessment_validated"
    ASSESSMENT_RETURNED = "assessment_returned"
    SUPERVISION_SCHEDULED = "supervision_scheduled"
    SUPERVISION_RESCHEDULED = "supervision_rescheduled"
    SUPERVISION_CANCELLED = "supervision_cancelled"
    SUPERVISION_ACTIONS_RECORDED = "supervision_actions_recorded"
    VALUES_REVIEWED = "values_reviewed"
    VACANCY_CREATED = "vacancy_created"
    CANDIDATE_ADDED = "candidate_added"
    CANDIDATES_IMPORTED = "candidates_imported"
    SHORTLIST_MARKED = "shortlist_marked"
    INTERVIEW_SCORES_SUBMITTED = "interview_scores_submitted"
    SCORES_AGREED = "scores_agreed"
    CANDIDATES_PURGED = "candidates_purged"
    FRAMEWORK_LOADED = "framework_loaded"
    API_TOKEN_CREATED = "api_token_created"  # noqa: S105 - an action name, not a token
    API_TOKEN_REVOKED = "api_token_revoked"  # noqa: S105 - an action name, not a token
    API_TOKEN_REFUSED = "api_token_refused"  # noqa: S105 - an action name, not a token
    VACANCY_STATE_CHANGED = "vacancy_state_changed"
    SHORTLIST_MODERATED = "shortlist_moderated"
    INTERVIEW_SLOT_SET = "interview_slot_set"
    PANEL_MEMBER_INVITED = "panel_member_invited"
    ASSESSMENT_TASK_SCORED = "assessment_task_scored"
    CANDIDATE_APPOINTED = "candidate_appointed"
    PRE_EMPLOYMENT_CHECK_RECORDED = "pre_employment_check_recorded"
    PRE_EMPLOYMENT_CHECK_WAIVED = "pre_employment_check_waived"
    PASSWORD_LINKS_DOWNLOADED = "password_links_downloaded"  # noqa: S105 - an action name
    PERSONAL_DATA_REQUESTED = "personal_data_requested"
    PERSONAL_DATA_DOWNLOADED = "personal_data_downloaded"
    PERSONAL_DATA_ERASED = "personal_data_erased"
    CANDIDATE_DATA_REQUESTED = "candidate_data_requested"
    CANDIDATE_DATA_DOWNLOADED = "candidate_data_downloaded"
    COLLABORATIVE_CREATED = "collaborative_created"
    ORGANISATION_CREATED = "organisation_created"
    ORGANISATION_CHANGED = "organisation_changed"
    FIRST_ADMIN_CREATED = "first_admin_created"
    INSTALLATION_ADMIN_GRANTED = "installation_admin_granted"
    LOCAL_COURSE_ADDED = "local_course_added"
    PERSONAL_DATA_EXPIRED = "personal_data_expired"
    ERASURE_REQUESTED = "erasure_requested"

    @property
    def label(self) -> str:
        return AUDIT_LABELS[self]

    @classmethod
    def coerce(cls, action: str) -> AuditAction:
        """The catalogue member for `action`; ValueError for anything not in the catalogue."""
        try:
            return cls(action)
        except ValueError:
            raise ValueError(f"{action!r} is not an audit action in the catalogue") from None


AUDIT_LABELS = {
    AuditAction.SIGN_IN: "Signed in",
    AuditAction.SIGN_IN_FAILED: "Sign-in failed",
    AuditAction.SSO_SIGN_IN_FAILED: "Sign-in through the organisation's provider refused",
    AuditAction.SSO_LINK_REMOVED: "Link to the organisation's sign-in removed",
    AuditAction.SIGN_OUT: "Signed out",
    AuditAction.PASSWORD_CHANGED: "Password changed",
    AuditAction.PASSWORD_RESET: "Password reset by an administrator",
    AuditAction.PASSWORD_LINK_ISSUED: "Set-password link issued",
    AuditAction.PASSWORD_SET_BY_LINK: "Password set by link",
    AuditAction.USER_CREATED: "Person added",
    AuditAction.USER_UPDATED: "Person's details changed",
    AuditAction.USER_DISABLED: "Account disabled",
    AuditAction.USER_ENABLED: "Account enabled",
    AuditAction.ROLES_CHANGED: "Roles changed",
    AuditAction.TEAM_CHANGED: "Team changed",
    AuditAction.SUPERVISOR_CHANGED: "Supervisor changed",
    AuditAction.LEAVING_DATE_CHANGED: "Leaving date changed",
    AuditAction.START_DATE_CHANGED: "Start date changed",
    AuditAction.TEAM_CREATED: "Team created",
    AuditAction.STAFF_IMPORTED: "Staff roster imported",
    AuditAction.COMPLETIONS_IMPORTED: "E-learning completions imported",
    AuditAction.MODULE_COMPLETED: "E-learning module completed",
    AuditAction.MODULE_ASSIGNED: "E-learning module assigned",
    AuditAction.MODULE_ASSIGNMENT_CANCELLED: "E-learning module assignment cancelled",
    AuditAction.LOCAL_COURSE_ADDED: "Local course added to the catalogue",
    AuditAction.EXPORT: "Workbook exported",
    AuditAction.ASSESSMENT_SUBMITTED: "Self-assessment submitted",
    AuditAction.ASSESSMENT_VALIDATED: "Assessment validated",
    AuditAction.ASSESSMENT_RETURNED: "Assessment returned",
    AuditAction.SUPERVISION_SCHEDULED: "Supervision scheduled",
    AuditAction.SUPERVISION_RESCHEDULED: "Supervision session moved",
    AuditAction.SUPERVISION_CANCELLED: "Supervision session cancelled",
    AuditAction.SUPERVISION_ACTIONS_RECORDED: "Supervision discussion and agreed actions recorded",
    AuditAction.VALUES_REVIEWED: "Core-value reflections reviewed",
    AuditAction.VACANCY_CREATED: "Vacancy created",
    AuditAction.CANDIDATE_ADDED: "Candidate added",
    AuditAction.CANDIDATES_IMPORTED: "Candidates imported",
    AuditAction.SHORTLIST_MARKED: "Shortlisting marks saved",
    AuditAction.INTERVIEW_SCORES_SUBMITTED: "Interview scores submitted",
    AuditAction.SCORES_AGREED: "Agreed interview scores recorded",
    AuditAction.CANDIDATES_PURGED: "Candidate data purged",
    AuditAction.FRAMEWORK_LOADED: "Framework version loaded",
    AuditAction.API_TOKEN_CREATED: "API token created",
    AuditAction.API_TOKEN_REVOKED: "API token revoked",
    AuditAction.API_TOKEN_REFUSED: "Revoked or expired API token used",
    AuditAction.VACANCY_STATE_CHANGED: "Vacancy moved to a new stage",
    AuditAction.SHORTLIST_MODERATED: "Shortlisting disagreement moderated",
    AuditAction.INTERVIEW_SLOT_SET: "Interview slot set",
    AuditAction.PANEL_MEMBER_INVITED: "Lay panel member invited",
    AuditAction.ASSESSMENT_TASK_SCORED: "Assessment task scored",
    AuditAction.CANDIDATE_APPOINTED: "Candidate appointed",
    AuditAction.PRE_EMPLOYMENT_CHECK_RECORDED: "Pre-employment check recorded",
    AuditAction.PRE_EMPLOYMENT_CHECK_WAIVED: "Pre-employment check waived",
    AuditAction.PASSWORD_LINKS_DOWNLOADED: "Set-password links file downloaded",
    AuditAction.PERSONAL_DATA_REQUESTED: "A copy of a person's data asked for",
    AuditAction.PERSONAL_DATA_DOWNLOADED: "A copy of a person's data downloaded",
    AuditAction.PERSONAL_DATA_ERASED: "A person's record erased",
    AuditAction.PERSONAL_DATA_EXPIRED: "A leaver's records past their retention period deleted",
    AuditAction.ERASURE_REQUESTED: "Erasure of records past retention, or on request, confirmed",
    AuditAction.CANDIDATE_DATA_REQUESTED: "A copy of a candidate's data asked for",
    AuditAction.CANDIDATE_DATA_DOWNLOADED: "A copy of a candidate's data downloaded",
    AuditAction.COLLABORATIVE_CREATED: "Collaborative created",
    AuditAction.ORGANISATION_CREATED: "Organisation created",
    AuditAction.ORGANISATION_CHANGED: "Organisation's name or email domains changed",
    AuditAction.FIRST_ADMIN_CREATED: "First administrator of an organisation added",
    AuditAction.INSTALLATION_ADMIN_GRANTED: "Installation administrator role granted",
}
