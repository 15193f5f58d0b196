"""The bridge from WTForms fields to nhsuk-frontend-jinja macro parameters.

Templates call `field_params(form.email, hint="…")` and pass the result to the matching
macro (`input`, `textarea`, `radios`, `checkboxes`, `select`), and `error_list(form)` to
`errorSummary`. One place decides ids, values and error messages for every form.

Every form of the application derives from `AppForm` (a posted form, with its CSRF token) or
`QueryForm` (read from a query string): their `TextInputMeta` gives every text field the one
check of `common/text.py`, so no single-line value (a title, a name, an address) is ever
stored with a line break or a control character, and a textarea with nothing but line
breaks and tabs. A test walks every form class to keep it so.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Field, Form
from wtforms.fields import (
    BooleanField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import StopValidation

from competency_app.common.text import control_character_problem, has_control_characters


def field_label(field: Field) -> str:
    """The name a message gives the field: its label, or its name in words."""
    text = field.label.text if field.label else ""
    return text or field.name.replace("_", " ").replace("-", " ").capitalize()


def _text_check(multi_line: bool):
    def check(form: Form, field: Field) -> None:
        data = field.data
        if isinstance(data, str) and has_control_characters(data, multi_line):
            raise StopValidation(control_character_problem(field_label(field), multi_line))

    return check


_SINGLE_LINE = _text_check(multi_line=False)
_MULTI_LINE = _text_check(multi_line=True)


class TextInputMeta:
    """Puts the control-character check first on every text field as the form is built
    (passwords are left as typed: they are never shown, sent or stored as text)."""

    def bind_field(self, form: Form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)  # type: ignore[misc]
        if isinstance(field, StringField) and not isinstance(field, PasswordField):
            check = _MULTI_LINE if isinstance(field, TextAreaField) else _SINGLE_LINE
            field.validators = [check, *field.validators]  # a new list: never the class's
        return field


class AppForm(FlaskForm):
    """The base of every posted form."""

    class Meta(TextInputMeta):
        pass


class QueryForm(Form):
    """The base of every form read from a query string (a GET carries no CSRF token)."""

    class Meta(TextInputMeta):
        pass


def _first_error(field: Field) -> str | None:
    errors = field.errors
    if isinstance(errors, dict):  # FieldList / FormField nest their errors
        errors = [e for value in errors.values() for e in value]
    return str(errors[0]) if errors else None


def field_params(field: Field, *, label: str | None = None, hint: str | None = None, **extra):
    """Parameters for the design-system macro that renders `field`."""
    error = _first_error(field)
    label_text = label if label is not None else field.label.text
    params: dict = {
        "name": field.name,
        "errorMessage": {"text": error} if error else None,
        "hint": {"text": hint} if hint else None,
    }
    if isinstance(field, RadioField | SelectMultipleField) or (
        isinstance(field, SelectField) and extra.pop("as_radios", False)
    ):
        chosen = field.data if isinstance(field.data, list) else [field.data]
        chosen = [str(value) for value in chosen if value is not None]
        params["idPrefix"] = field.id
        params["fieldset"] = {"legend": {"text": label_text, "size": extra.pop("legend_size", "s")}}
        params["items"] = [
            {"value": str(c.value), "text": c.label, "checked": str(c.value) in chosen}
            for c in field.iter_choices()
        ]
    elif isinstance(field, SelectField):
        params["label"] = {"text": label_text}
        params["items"] = [
            {"value": str(c.value), "text": c.label, "selected": str(c.value) == str(field.data)}
            for c in field.iter_choices()
        ]
    elif isinstance(field, BooleanField):
        params["idPrefix"] = field.id
        params["items"] = [{"value": "y", "text": label_text, "checked": bool(field.data)}]
    else:
        params["label"] = {"text": label_text}
        params["value"] = field._value() if hasattr(field, "_value") else field.data
    if "idPrefix" not in params:
        # radios and checkboxes use idPrefix for their items; an "id" would also be put on
        # their wrapper and duplicate the first item's id
        params["id"] = field.id
    params.update(extra)
    return params


def error_list(*forms: Form) -> list[dict]:
    """Items for the error summary: each error links to its field."""
    items = []
    for form in forms:
        for field in form:
            error = _first_error(field)
            if error:
                # Radios and checkboxes: the first item's id is the field id itself.
                items.append({"text": error, "href": f"#{field.id}"})
    return items
