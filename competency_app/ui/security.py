"""Security headers on every response."""

from __future__ import annotations

import secrets

from flask import Response, current_app, g, request

from competency_app.accounts import sso
from competency_app.common.holes import filled_by, holes_open, marker

# The NHS.UK page template has one inline script (it marks the body as JS-enabled): it is
# allowed by a per-response nonce; nothing else inline runs. Forms post to this site only,
# and the sign-out form's redirect to the identity provider's end-session page (browsers
# check form-action along redirects) to the provider's own origin.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self' "
    "'nonce-{nonce}'; font-src 'self'; form-action 'self'{provider}; frame-ancestors 'none'; "
    "base-uri 'self'; object-src 'none'"
)


def csp_nonce() -> str:
    """The nonce for this response's inline scripts (created on first use); a marker in a
    page rendered to be kept (`common/holes.py`), filled per response."""
    if holes_open():
        return marker("nonce")
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


filled_by("nonce", csp_nonce)


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    provider = " ".join(sso.provider_origins())
    headers.setdefault(
        "Content-Security-Policy",
        CSP.format(nonce=csp_nonce(), provider=f" {provider}" if provider else ""),
    )
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure or current_app.config.get("PREFERRED_URL_SCHEME") == "https":
        headers.setdefault(
            "Strict-Transport-Security",
            f"max-age={current_app.config['HSTS_MAX_AGE']}; includeSubDomains",
        )
    if not request.path.startswith(("/static/", "/assets/")):
        # Pages may hold personal data: never keep them in a shared or browser cache.
        headers["Cache-Control"] = "no-store"
    return response
