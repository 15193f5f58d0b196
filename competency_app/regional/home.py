"""The regional lead's section of the home page: where the collaborative's figures are."""

from __future__ import annotations

from flask import url_for

from competency_app.accounts.models import User
from competency_app.common.home import HomeSection
from competency_app.regional.services import lead_collaborative


def regional_section(user: User) -> HomeSection | None:
    collaborative = lead_collaborative(user)
    if collaborative is None:
        return None
    section = HomeSection("Regional view")
    section.lines.append(
        f"The figures of {collaborative.name}: each organisation's and team's coverage, "
        "required training and vacancies, the skills held by too few and the forecast."
    )
    section.links += [
        ("Open the regional view", url_for("regional.index")),
        ("Forecast: element gaps in 30, 60 and 90 days", url_for("regional.forecast")),
    ]
    return section
