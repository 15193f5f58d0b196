"""Sign-in, password and administration forms (validation of shape only; services decide)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from competency_app.accounts.models import ROLE_LABELS


class SignInForm(FlaskForm):
    email = StringField(
        "Email address", validators=[DataRequired("Enter your email address"), Length(max=254)]
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password"), Length(max=256)]
    )


class ChangePasswordForm(FlaskForm):
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


class SetPasswordForm(FlaskForm):
    new_password = PasswordField(
        "New password", validators=[DataRequired("Enter a new password"), Length(max=256)]
    )
    confirm_password = PasswordField(
        "Confirm new password", validators=[DataRequired("Confirm your new password")]
    )

    def validate_confirm_password(self, field):
        if field.data != self.new_password.data:
            raise ValidationError("The two new passwords do not match")


class TeamForm(FlaskForm):
    name = StringField(
        "Team name", validators=[DataRequired("Enter the team name"), Length(max=200)]
    )
    slug = StringField(
        "Short name",
        validators=[DataRequired("Enter a short name for the team"), Length(max=60)],
    )


ROLE_CHOICES = [SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()]


class PersonForm(FlaskForm):
    name = StringField("Full name", validators=[DataRequired("Enter the person's full name")])
    email = StringField("Email address", validators=[DataRequired("Enter an email address")])
    team = SelectField("Team", validators=[Optional()])
    roles = SelectMultipleField(
        "Roles", choices=ROLE_CHOICES, validators=[DataRequired("Choose at least one role")]
    )
    supervisor = SelectField("Their supervisor", validators=[Optional()])


class RolesForm(FlaskForm):
    team = SelectField("Team", validators=[Optional()])
    roles = SelectMultipleField(
        "Roles", choices=ROLE_CHOICES, validators=[DataRequired("Choose at least one role")]
    )
    supervisor = SelectField("Their supervisor", validators=[Optional()])
    leaving_date = StringField("Leaving date (optional)", validators=[Length(max=20)])
    active = BooleanField("Account is active")


class ConfirmForm(FlaskForm):
    """An empty form: a CSRF token for a confirmed POST (reset, disable)."""
