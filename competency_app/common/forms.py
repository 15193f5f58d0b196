"""The bridge from WTForms fields to nhsuk-frontend-jinja macro parameters.

Templates call `field_params(form.email, hint="…")` and pass the result to the matching
macro (`input`, `textarea`, `radios`, `checkboxes`, `select`), and `error_list(form)` to
`errorSummary`. One place decides ids, values and error messages for every form.
"""

from __future__ import annotations

from wtforms import Field, Form
from wtforms.fields import BooleanField, RadioField, SelectField, SelectMultipleField


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
