"""The administrator's home block: every administration page one click away (people,
teams, the audit log, API tokens, notification settings, framework versions)."""

from __future__ import annotations

from flask import url_for

from competency_app.accounts.models import Role, User
from competency_app.common.home import HomeSection


def admin_pages(user: User) -> HomeSection | None:
    if Role.ADMIN not in user.role_set:
        return None
    section = HomeSection("Administration pages")
    section.links += [
        ("All administration pages", url_for("admin.index")),
        ("API tokens", url_for("api_pages.tokens")),
        ("Notification settings", url_for("notifications.settings")),
        ("Framework versions", url_for("framework.versions")),
    ]
    return section
