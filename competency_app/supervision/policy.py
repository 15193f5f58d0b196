"""The periods the framework file sets that are the service's own choice, said as such.

Neither the keyworking framework (reference 000) nor the supervision guide (002) sets how
long a validation counts, how often the competency review falls, or how often supervision
is held: the file's `rules.validity_months`, `supervision.review_cycle_months` and
`supervision.alert_after_weeks` are the service's policy. Every page that shows one of them
says so in these words (templates call them as `service_policy.validity(settings)`).
"""

from __future__ import annotations

from types import SimpleNamespace

from competency_app.framework.settings import FrameworkSettings

POLICY = "Your service's policy, not the framework's"


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def validity(settings: FrameworkSettings) -> str:
    return (
        f"{POLICY}: a supervisor's validation counts for "
        f"{_count(settings.validity.months, 'month')}"
    )


def review(settings: FrameworkSettings) -> str:
    return (
        f"{POLICY}: a competency review {_count(settings.review_cycle.months, 'month')} "
        "after the last validation"
    )


def alert(settings: FrameworkSettings) -> str:
    return (
        f"{POLICY}: supervision at least every "
        f"{_count(settings.supervision.alert_after_weeks, 'week')}"
    )


# for templates: service_policy.validity(settings), .review(...), .alert(...)
TEMPLATE_GLOBAL = SimpleNamespace(validity=validity, review=review, alert=alert)
