"""One-time, expiring set-your-password links for new people.

A new person gets no password at all (their account cannot sign in with one) and a link to
choose it. The token is 256 random bits shown once; only its SHA-256 is stored, so a copy of
the database holds no usable link. A link works once, until it expires
(`PASSWORD_LINK_DAYS`), and only while the account is active. Issuing links costs one
insert, not one password hash per person, so an import of thousands stays fast.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta

from flask import current_app, has_request_context, url_for
from sqlalchemy import select, update

from competency_app.accounts.audit import AuditAction
from competency_app.accounts.models import PasswordLink, User
from competency_app.accounts.services import (
    AccountError,
    check_password_strength,
    hash_password,
    record,
)
from competency_app.clock import utcnow
from competency_app.common.xlsx import csv_text
from competency_app.database import chunks, insert_rows
from competency_app.extensions import db


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_links(user_ids: list[int], actor: User | None, **audit) -> dict[int, str]:
    """A fresh link for each person (earlier unused ones stop working); returns the tokens.

    One audit event records how many were issued (`audit` adds its details).
    """
    if not user_ids:
        return {}
    now = utcnow()
    expires = now + timedelta(days=int(current_app.config["PASSWORD_LINK_DAYS"]))
    for chunk in chunks(user_ids):
        db.session.execute(
            update(PasswordLink)
            .where(PasswordLink.user_id.in_(chunk), PasswordLink.used_at.is_(None))
            .values(used_at=now)
        )
    tokens = {user_id: secrets.token_urlsafe(32) for user_id in user_ids}
    insert_rows(
        db.session,
        PasswordLink.__table__,
        [
            {
                "user_id": user_id,
                "token_hash": token_hash(token),
                "created_at": now,
                "expires_at": expires,
            }
            for user_id, token in tokens.items()
        ],
    )
    target = f"{len(tokens)} people" if len(tokens) > 1 else None
    if target is None:
        target = db.session.scalar(select(User.email).where(User.id == user_ids[0]))
    record("password_link_issued", actor, target=target, count=len(tokens), **audit)
    return tokens


def link_url(token: str) -> str:
    """The full address when serving a request; otherwise PUBLIC_URL + the path."""
    if has_request_context():
        return url_for("auth.set_password", token=token, _external=True)
    base = (current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    return f"{base}/set-password/{token}"


def links_csv_text(links: Iterable[tuple[str, str, str]]) -> str:
    """The set-password links file: name, email and link of each new person, every cell
    neutralised as in a workbook (a name such as `=HYPERLINK(...)` stays text)."""
    return csv_text([("name", "email", "set-password link"), *links])


def record_links_download(actor: User, **detail) -> None:
    """Audit a download of the links file (live one-time links): who, and how many or
    which job's (`detail`)."""
    record(AuditAction.PASSWORD_LINKS_DOWNLOADED, actor, target="set-password-links.csv", **detail)


def valid_link(token: str) -> PasswordLink | None:
    """The unused, unexpired link of an active person with this token, or None."""
    if not token or len(token) > 100:
        return None
    link = db.session.scalar(
        select(PasswordLink).where(PasswordLink.token_hash == token_hash(token))
    )
    if link is None or link.used_at is not None or link.expires_at <= utcnow():
        return None
    if not link.user.active:
        return None
    return link


LINK_ALREADY_USED = (
    "This link has just been used to set a password. Sign in with that password, or ask "
    "HR or an administrator for a new link."
)


def set_password_by_link(link: PasswordLink, password: str) -> User:
    """Set the person's password through `link`, spend the link (and any other unused
    link of theirs) and record the sign-in that follows. Spending is one conditional
    UPDATE: of two requests with the same link, only the first sets a password."""
    user = link.user
    check_password_strength(password, user.email)
    now = utcnow()
    spent = db.session.execute(
        update(PasswordLink)
        .where(PasswordLink.id == link.id, PasswordLink.used_at.is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise AccountError(LINK_ALREADY_USED, "new_password")
    db.session.execute(
        update(PasswordLink)
        .where(PasswordLink.user_id == user.id, PasswordLink.used_at.is_(None))
        .values(used_at=now)
    )
    user.password_hash = hash_password(password)
    user.must_change_password = False
    user.session_version += 1
    user.last_sign_in_at = now
    record("password_set_by_link", user, target=user.email)
    record("sign_in", user, via="set-password link")
    return user
