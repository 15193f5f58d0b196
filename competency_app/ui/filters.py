"""Template filters and globals: UK dates and the forms bridge (from `common/`), plural
words, the design-system macros and the item builders the templates use."""

from __future__ import annotations

from flask import Flask

from competency_app.common.dates import DATE_HINT, how_long, uk_date, uk_datetime
from competency_app.common.forms import error_list, field_params
from competency_app.common.text import short_form
from competency_app.framework.settings import Level


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"


# Design-system macros offered to every template as globals, so child templates need no
# imports of their own (imports in a parent layout are invisible to child blocks).
COMPONENT_MACROS = {
    "actionLink": "action-link",
    "backLink": "back-link",
    "breadcrumb": "breadcrumb",
    "button": "button",
    "card": "card",
    "checkboxes": "checkboxes",
    "dateInput": "date-input",
    "details": "details",
    "errorMessage": "error-message",
    "errorSummary": "error-summary",
    "fieldset": "fieldset",
    "input": "input",
    "insetText": "inset-text",
    "pagination": "pagination",
    "panel": "panel",
    "radios": "radios",
    "select": "select",
    "summaryList": "summary-list",
    "table": "tables",
    "tag": "tag",
    "textarea": "textarea",
    "warningCallout": "warning-callout",
}


def error_item(pair: tuple[str, str]) -> dict:
    """(field id, message) -> an error-summary item linking to the field."""
    field, message = pair
    return {"text": message, "href": f"#{field}"}


def rating_item(level: Level, chosen: str) -> dict:
    """A rating-scale level as a radio item (value, label, descriptor as hint)."""
    value = str(level.value)
    return {
        "value": value,
        "text": f"{level.value} {level.label}",
        "hint": {"text": level.descriptor},
        "checked": value == chosen,
    }


def rating_option(level: Level, chosen: str) -> dict:
    value = str(level.value)
    return {
        "value": value,
        "text": f"{level.value} {level.label}",
        "selected": value == chosen,
    }


def score_item(level: Level, chosen: str) -> dict:
    value = str(level.value)
    return {
        "value": value,
        "text": f"{level.value} {level.label}",
        "checked": value == chosen,
    }


def team_option(team, chosen: str) -> dict:
    return {"value": str(team.id), "text": team.name, "selected": str(team.id) == chosen}


def person_option(person, chosen: str) -> dict:
    return {"value": str(person.id), "text": person.name, "selected": str(person.id) == chosen}


def person_item(person, chosen: list) -> dict:
    return {"value": str(person.id), "text": person.name, "checked": str(person.id) in chosen}


def register(app: Flask) -> None:
    env = app.jinja_env
    for name, folder in COMPONENT_MACROS.items():
        module = env.get_template(f"nhsuk/components/{folder}/macro.jinja").module
        env.globals[name] = getattr(module, name)
    env.globals.update(field_params=field_params, error_list=error_list, date_hint=DATE_HINT)
    app.add_template_filter(uk_date)
    app.add_template_filter(uk_datetime)
    app.add_template_filter(plural)
    app.add_template_filter(short_form)
    app.add_template_filter(how_long)
    app.add_template_filter(error_item)
    app.add_template_filter(rating_item)
    app.add_template_filter(rating_option)
    for helper in (score_item, team_option, person_option, person_item):
        app.add_template_filter(helper)
