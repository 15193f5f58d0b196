"""The API tokens page's form: the shape of what is posted (the service decides the rules)."""

from __future__ import annotations

from wtforms import RadioField, StringField
from wtforms.fields.choices import SelectChoice

from competency_app.api.tokens import LIFETIMES_DAYS
from competency_app.common.forms import AppForm
from competency_app.common.text import whole_number

LIFETIME_LABELS = {30: "30 days", 90: "90 days", 180: "6 months", 365: "1 year"}


class NewTokenForm(AppForm):
    name = StringField("Name", filters=[lambda value: (value or "").strip()])
    days = RadioField(
        "How long should it last?",
        choices=[SelectChoice(str(days), LIFETIME_LABELS[days]) for days in LIFETIMES_DAYS],
        default="90",
        validate_choice=False,  # the service refuses anything else, naming the field
    )

    @property
    def lifetime(self) -> int:
        raw = self.days.data or ""
        return whole_number(raw, 9999) or 0

    def typed(self) -> dict[str, str]:
        return {"name": self.name.data or "", "days": self.days.data or ""}
