"""Home page, static design-system assets and template helpers shared by every page."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    current_app,
    get_flashed_messages,
    get_template_attribute,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from sqlalchemy import bindparam, select

from competency_app.accounts import scope
from competency_app.accounts.models import Role, Team
from competency_app.accounts.permissions import PUBLIC, SIGNED_IN, access, is_admin
from competency_app.common.caches import BoundedCache, per_process_cache
from competency_app.common.holes import filled_by, holes_open, marker
from competency_app.extensions import db
from competency_app.framework.services import current_words
from competency_app.recruitment.models import PanelMember
from competency_app.ui.home import home_sections
from competency_app.ui.security import csp_nonce

blueprint = Blueprint("ui", __name__)
ASSETS_DIR = Path(__file__).resolve().parent.parent / "static" / "nhsuk" / "assets"


@blueprint.app_context_processor
def template_helpers() -> dict:
    return {
        "csp_nonce": csp_nonce,
        "site_header": site_header,
        "site_footer": site_footer,
        "skip_link": skip_link,
        "flash_messages": flash_messages,
        "framework_words": current_words,
        "role_label": role_label,
    }


def role_label(role: Role) -> str:
    """A role as people read it: the practitioner role in the framework file's words."""
    return current_words().role_label if role is Role.PRACTITIONER else role.label


def navigation_items() -> list[dict]:
    if not current_user.is_authenticated:
        return []
    items = [("ui.home", "Home")]
    roles = current_user.role_set
    if Role.PRACTITIONER in roles:
        items.append(("assessments.my_assessments", "Self-assessment"))
    if Role.PRACTITIONER in roles:
        items.append(("coverage.my_plan", "Development"))
    if Role.SUPERVISOR in roles:
        items.append(("assessments.queue", "Supervision"))
    elif Role.MANAGER in roles:
        items.append(("supervision.overview", "Supervision"))
    items.append(("framework.overview", "Framework"))
    if roles & {Role.RECRUITER, Role.HR} or _on_a_panel(current_user):
        items.append(("recruitment.index", "Recruitment"))
    if roles & {Role.HR, Role.ADMIN}:
        items.append(("exports.index", "Workbooks"))
    if Role.REGIONAL_LEAD in roles:
        items.append(("regional.index", "Regional view"))
    if is_admin(current_user):
        items.append(("admin.index", "Administration"))
    elif Role.INSTALLATION_ADMIN in roles:
        items.append(("admin.audit", "Audit log"))
    if scope.is_installation_admin(current_user):
        items.append(("installation.index", "Installation"))
    current = request.endpoint or ""
    links = [
        {
            "href": url_for(endpoint),
            "text": text,
            "current": current.split(".")[0] == endpoint.split(".")[0]
            and current != "ui.home"
            or current == endpoint,
        }
        for endpoint, text in items
    ]
    teams = sorted(current_user.team_ids(Role.MANAGER, Role.SUPERVISOR))
    if teams:
        team = db.session.get_one(Team, teams[0])
        links.insert(
            1,
            {
                "href": url_for("coverage.team_coverage", slug=team.slug),
                "text": "Team coverage",
                "current": current.startswith("coverage.team")
                or current == "coverage.element_detail",
            },
        )
    return links


_PANEL_MEMBER = select(PanelMember.id).where(PanelMember.user_id == bindparam("user")).limit(1)


def _on_a_panel(user) -> bool:
    if user.on_a_panel is not None:  # read with the signed-in person
        return bool(user.on_a_panel)
    return db.session.scalar(_PANEL_MEMBER, {"user": user.id}) is not None


def sign_out_form() -> Markup:
    """Sign-out is a POST with a CSRF token (the header macro's own form has no token)."""
    if not _has_endpoint("auth.logout"):
        return Markup("")
    return Markup(
        '<form class="nhsuk-header__account-form" method="post" action="{action}">'
        '<input type="hidden" name="csrf_token" value="{token}">'
        '<button class="nhsuk-header__account-button" type="submit">Sign out</button></form>'
    ).format(action=escape(url_for("auth.logout")), token=escape(generate_csrf()))


SERVICE_NAME = "Keyworking competency tracker"
_HEADERS: BoundedCache[Markup] = BoundedCache(512)
per_process_cache("page headers", _HEADERS.clear)
_SIGN_OUT = Markup("<!-- sign-out form -->")  # escaped text can never contain it


def site_header() -> Markup:
    """The design system's header for this viewer: its macro calls cost ~3 ms a page, so it
    is rendered once per process for each name and set of navigation links (their targets,
    words and which is current) and the sign-out form, whose token belongs to the session,
    is put in afterwards. A page rendered to be kept gets a marker (`common/holes.py`)."""
    if holes_open():
        return marker("header")
    links = navigation_items()
    form = sign_out_form()
    name = current_user.name if current_user.is_authenticated else None
    key = (name, bool(form), tuple((link["href"], link["text"], link["current"]) for link in links))
    html = _HEADERS.get(key)
    if html is None:
        params: dict = {
            "service": {"text": SERVICE_NAME, "href": url_for("ui.home")},
            "navigation": {"items": links},
        }
        if name is not None:
            items = [{"text": name, "icon": True}, {"html": _SIGN_OUT if form else form}]
            params["account"] = {"items": items}
        html = get_template_attribute("nhsuk/components/header/macro.jinja", "header")(params)
        _HEADERS.put(key, html)
    return html.replace(_SIGN_OUT, form)


filled_by("header", site_header)


def flash_messages() -> Markup:
    """The messages waiting for this session (each shown once); a marker in a page rendered
    to be kept (`common/holes.py`), so a kept page shows the viewer's own messages."""
    if holes_open():
        return marker("messages")
    if "_flashes" not in session:  # nearly every page: no message, nothing to render
        return Markup("")
    messages = get_flashed_messages(with_categories=True)
    return Markup(render_template("_flash_messages.html", messages=messages))  # noqa: S704 - an autoescaping template's output


filled_by("messages", flash_messages)


_FURNITURE: BoundedCache[Markup] = BoundedCache(16)
per_process_cache("page furniture", _FURNITURE.clear)


def _macro_once(key: tuple, component: str, macro: str, params) -> Markup:
    """A design-system component's markup that depends only on `key`, rendered once a
    process (`params` is called for the macro's parameters the first time)."""
    html = _FURNITURE.get(key)
    if html is None:
        template = f"nhsuk/components/{component}/macro.jinja"
        html = get_template_attribute(template, macro)(params())
        _FURNITURE.put(key, html)
    return html


def skip_link() -> Markup:
    return _macro_once(
        ("skip link",),
        "skip-link",
        "skipLink",
        lambda: {"href": "#maincontent", "text": "Skip to main content"},
    )


def site_footer() -> Markup:
    """The footer's links: the framework's pages, and the API's for those signed in."""
    signed_in = current_user.is_authenticated

    def params() -> dict:
        items = [
            {"href": url_for("framework.overview"), "text": "Competency framework"},
            {"href": url_for("framework.versions"), "text": "Framework versions"},
        ]
        if signed_in:
            items.append({"href": url_for("api_pages.docs"), "text": "API for reporting tools"})
            items.append({"href": url_for("privacy.mine"), "text": "Your data"})
        items.append({"href": url_for("privacy.notice"), "text": "Privacy"})
        return {"meta": {"items": items}, "copyright": {"text": "Keyworking competency tracker"}}

    return _macro_once(
        ("footer", request.script_root, signed_in),
        "footer",
        "footer",
        params,
    )


def _has_endpoint(name: str) -> bool:
    return name in current_app.view_functions


@blueprint.get("/assets/<path:filename>")
@access(PUBLIC)
def assets(filename: str):
    """The design system's images, at the /assets/ path its compiled CSS expects."""
    return send_from_directory(ASSETS_DIR, filename, max_age=86400)


@blueprint.get("/")
@access(SIGNED_IN)
def home():
    user = current_user._get_current_object()
    return render_template("ui/home.html", title="Home", sections=home_sections(user))
