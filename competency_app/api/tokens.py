"""Personal API tokens: who may hold one, creating, revoking and checking a bearer token.

A token acts as its owner, read-only: the API's views ask the same `@access` rules and the
same predicates as the pages, so a token sees exactly what its owner may see today (a
role removed from the owner is removed from the token too). Tokens are accepted on the
API's GET routes only (`api/views.py`); the pages never read the `Authorization` header.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from competency_app.accounts.models import Role, User
from competency_app.accounts.services import record
from competency_app.api.models import ApiToken
from competency_app.clock import utcnow
from competency_app.extensions import db

TOKEN_PREFIX = "kwt_"  # noqa: S105 - not a secret: tells a leaked secret apart from other strings (secret scanners)
LIFETIMES_DAYS = (30, 90, 180, 365)  # the choices offered; a year at most
MAX_ACTIVE_TOKENS = 10
TOKEN_ROLES = frozenset({Role.MANAGER, Role.HR, Role.ADMIN, Role.REGIONAL_LEAD})
# last_used_at is written at most once a minute per token: a BI refresh that makes a
# hundred calls is one write, not a hundred.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenError(ValueError):
    """A refused token request; `field` names the form field it concerns."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def may_hold_tokens(user: User, **_kwargs) -> bool:
    """Managers, HR, administrators and regional leads: the people who report on figures."""
    return user.is_authenticated and bool(TOKEN_ROLES & user.role_set)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def tokens_of(owner: User) -> list[ApiToken]:
    """The owner's tokens, newest first (revoked and expired ones too: their history)."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.owner_id == owner.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


@dataclass
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


def create_token(owner: User, name: str, days: int) -> NewToken:
    """A new token for `owner`, valid for `days` days; the secret is returned once."""
    if not may_hold_tokens(owner):
        raise TokenError("Only managers, HR and administrators can have API tokens")
    name = name.strip()
    if not name:
        raise TokenError("Enter a name for the token, for example Power BI coverage", "name")
    if len(name) > 80:
        raise TokenError("The name must be 80 characters or fewer", "name")
    if days not in LIFETIMES_DAYS:
        raise TokenError("Choose how long the token lasts", "days")
    now = utcnow()
    active = [t for t in tokens_of(owner) if t.is_usable(now)]
    if len(active) >= MAX_ACTIVE_TOKENS:
        raise TokenError(
            f"You already have {MAX_ACTIVE_TOKENS} active tokens: revoke one you no longer use",
            "name",
        )
    if any(t.name.casefold() == name.casefold() for t in active):
        raise TokenError("You already have an active token with this name", "name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        owner_id=owner.id,
        name=name,
        token_hash=token_hash(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 4],
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    db.session.add(token)
    db.session.flush()
    record("api_token_created", owner, target=f"api_token:{token.id}", days=days)
    return NewToken(token, secret)


def revoke_token(token: ApiToken, actor: User) -> None:
    """Stop `token` working at once (kept, marked revoked, for the owner's history)."""
    if token.revoked_at is not None:
        raise TokenError("This token has already been revoked")
    token.revoked_at = utcnow()
    record("api_token_revoked", actor, target=f"api_token:{token.id}")


@dataclass
class BearerCheck:
    """The outcome of an `Authorization` header: the owner, or why it was refused."""

    user: User | None = None
    refusal: str = ""
    token: ApiToken | None = None
    reason: str = ""  # for the audit log: revoked, expired or owner


def parse_bearer(header: str) -> str | None:
    scheme, _, secret = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def check_bearer(header: str, now: datetime | None = None) -> BearerCheck:
    """Who an `Authorization: Bearer …` header speaks for. Refusals say why, in words the
    caller can act on, without telling a stranger whether some other token exists."""
    secret = parse_bearer(header)
    if secret is None or len(secret) > 200:
        return BearerCheck(refusal="Send the token as 'Authorization: Bearer <token>'.")
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(secret)))
    if token is None:
        return BearerCheck(refusal="This API token is not valid.")
    now = now or utcnow()
    if token.revoked_at is not None:
        return BearerCheck(
            refusal="This API token has been revoked.", token=token, reason="revoked"
        )
    if now >= token.expires_at:
        return BearerCheck(
            refusal="This API token has expired: create a new one.", token=token, reason="expired"
        )
    owner = token.owner
    if not owner.active or not may_hold_tokens(owner):
        return BearerCheck(
            refusal="This API token's owner can no longer use the API.", token=token, reason="owner"
        )
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
    return BearerCheck(user=owner, token=token)


def refused_token_recorded(check: BearerCheck) -> None:
    """A known token refused (revoked, expired, owner gone) is audited: someone still uses it."""
    if check.token is not None:
        record(
            "api_token_refused",
            check.token.owner,
            target=f"api_token:{check.token.id}",
            reason=check.reason,
        )
