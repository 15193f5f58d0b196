"""The privacy page's sections, from the registry (what is held and why) and the retention
rules in force (how long), with who sees each part: so the page stays true when a table, a
purpose or a period changes. `tests/privacy/test_retention.py` fails when a section of the
registry has no entry in `SEEN_BY`."""

from __future__ import annotations

from dataclasses import dataclass, field

from competency_app.privacy import registry, retention

SEEN_BY: dict[str, str] = {
    registry.ACCOUNT: (
        "You; HR and administrators of your employer; the managers and supervisors of your "
        "teams see your name, roles and teams. Your password is never seen by anyone."
    ),
    registry.ASSESSMENTS: (
        "You and your supervisor; your team's manager sees the validated levels and the "
        "team's coverage; HR of your employer for workforce reports. Other keyworkers never "
        "see your ratings."
    ),
    registry.SUPERVISION: (
        "You and your supervisor; your team's manager sees when sessions happen, not what "
        "was discussed."
    ),
    registry.TRAINING: (
        "You, your supervisor, your team's manager and HR of your employer (training compliance)."
    ),
    registry.NOTIFICATIONS: "You alone.",
    registry.RECRUITMENT: (
        "HR of the organisation recruiting, the vacancy's recruiting manager and the "
        "interview panel; a lay panel member sees only the candidates they interview."
    ),
}


@dataclass
class Section:
    name: str
    purposes: list[str] = field(default_factory=list)
    kept: list[retention.Rule] = field(default_factory=list)
    seen_by: str = ""


def notice_sections() -> list[Section]:
    """What the service holds, section by section, in the registry's order."""
    rules = retention.rules()
    sections: dict[str, Section] = {}
    for holding in registry.HOLDINGS:
        section = sections.setdefault(
            holding.section, Section(holding.section, seen_by=SEEN_BY[holding.section])
        )
        if not holding.about_nobody and holding.purpose not in section.purposes:
            section.purposes.append(holding.purpose)
        rule = rules[holding.kept]
        if rule not in section.kept:
            section.kept.append(rule)
    return list(sections.values())
