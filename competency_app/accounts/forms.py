"""Sign-in, password and administration forms (validation of shape only; services decide)."""

from __future__ import annotations

from datetime import date

from wtforms import (
    BooleanField,
    Field,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from competency_app.accounts.audit import AuditAction
from competency_app.accounts.models import ROLE_LABELS
from competency_app.common.dates import date_error, parse_day
from competency_app.common.forms import AppForm, QueryForm


class SignInForm(AppForm):
    email = StringField(
        "Email address", validators=[DataRequired("Enter your email address"), Length(max=254)]
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password"), Length(max=256)]
    )


class WorkEmailForm(AppForm):
    """Sign-in by email first: the address's domain picks the organisation's provider."""

    work_email = StringField(
        "Work email address",
        validators=[DataRequired("Enter your work email address"), Length(max=254)],
    )


class ChangePasswordForm(AppForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password")]
    )
    new_password = PasswordField(
        "New password", validators=[DataRequired("Enter a new password"), Length(max=256)]
    )
    confirm_password = PasswordField(
        "Confirm new password", validators=[DataRequired("Confirm your new password")]
    )

    def validate_confirm_password(self, field):
        if field.data != self.new_password.data:
            raise ValidationError("The two new passwords do not match")


class SetPasswordForm(AppForm):
    new_password = PasswordField(
        "New password", validators=[DataRequired("Enter a new password"), Length(max=256)]
    )
    confirm_password = PasswordField(
        "Confirm new password", validators=[DataRequired("Confirm your new password")]
    )

    def validate_confirm_password(self, field):
        if field.data != self.new_password.data:
            raise ValidationError("The two new passwords do not match")


class TeamForm(AppForm):
    name = StringField(
        "Team name", validators=[DataRequired("Enter the team name"), Length(max=200)]
    )
    slug = StringField(
        "Short name",
        validators=[DataRequired("Enter a short name for the team"), Length(max=60)],
    )


class CollaborativeForm(AppForm):
    name = StringField(
        "Collaborative name",
        validators=[DataRequired("Enter the collaborative name"), Length(max=200)],
    )
    slug = StringField(
        "Short name",
        validators=[DataRequired("Enter a short name for the collaborative"), Length(max=60)],
    )


class OrganisationEditForm(AppForm):
    name = StringField(
        "Organisation name",
        validators=[DataRequired("Enter the organisation name"), Length(max=200)],
    )
    domains = StringField("Email domains", validators=[Length(max=1000)])
    # "yes" once the installation administrator has confirmed taking domains away
    confirmed = StringField(validators=[Optional()])


class OrganisationForm(OrganisationEditForm):
    slug = StringField(
        "Short name",
        validators=[DataRequired("Enter a short name for the organisation"), Length(max=60)],
    )


class FirstAdminForm(AppForm):
    name = StringField(
        "Full name", validators=[DataRequired("Enter the person's full name"), Length(max=200)]
    )
    email = StringField(
        "Email address", validators=[DataRequired("Enter an email address"), Length(max=254)]
    )


ROLE_CHOICES = [SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()]


class PersonForm(AppForm):
    name = StringField("Full name", validators=[DataRequired("Enter the person's full name")])
    email = StringField("Email address", validators=[DataRequired("Enter an email address")])
    team = SelectField("Team", validators=[Optional()])
    roles = SelectMultipleField(
        "Roles", choices=ROLE_CHOICES, validators=[DataRequired("Choose at least one role")]
    )
    supervisor = SelectField("Their supervisor", validators=[Optional()])
    start_date = StringField("Start date (optional)", validators=[Length(max=20)])


class RolesForm(AppForm):
    team = SelectField("Team", validators=[Optional()])
    roles = SelectMultipleField(
        "Roles", choices=ROLE_CHOICES, validators=[DataRequired("Choose at least one role")]
    )
    supervisor = SelectField("Their supervisor", validators=[Optional()])
    start_date = StringField("Start date (optional)", validators=[Length(max=20)])
    leaving_date = StringField("Leaving date (optional)", validators=[Length(max=20)])
    active = BooleanField("Account is active")


class ConfirmForm(AppForm):
    """An empty form: a CSRF token for a confirmed POST (reset, disable)."""


def _query_text(value: str | None) -> str:
    return (value or "").strip()[:254]


class AuditFilterForm(QueryForm):
    """The audit log's filters, read from the query string (a GET carries no CSRF token)."""

    action = StringField(filters=[_query_text])
    who = StringField(filters=[_query_text])
    date_from = StringField(name="from", filters=[_query_text])
    date_to = StringField(name="to", filters=[_query_text])

    def validate_action(self, field: Field) -> None:
        if field.data and field.data not in {action.value for action in AuditAction}:
            raise ValidationError("Choose an action from the list")

    def validate_date_from(self, field: Field) -> None:
        self._check_day(field)

    def validate_date_to(self, field: Field) -> None:
        self._check_day(field)

    @staticmethod
    def _check_day(field: Field) -> None:
        if field.data and _day(field.data) is None:
            raise ValidationError(date_error(f"the '{field.name}' date"))

    def day(self, field: Field) -> date | None:
        """The day typed in `field`, once the form is valid (None when blank)."""
        return _day(field.data) if field.data else None

    def error_dict(self) -> dict[str, str]:
        """The first error of each field, by the name in the query string, in page order."""
        return {field.name: str(field.errors[0]) for field in self if field.errors}


def _day(raw: str) -> date | None:
    return parse_day(raw)
