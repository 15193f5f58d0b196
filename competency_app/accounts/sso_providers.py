"""Which OpenID Connect provider signs in whom: one provider per organisation.

The single OIDC_* settings are the provider of the first organisation (the one an
installation started with); OIDC_PROVIDERS adds one per organisation slug (config.py
documents both). Each provider has a key: "" for the OIDC_* one, else its organisation's
slug. The sign-in page offers a button per provider whose organisation exists, and
finds a provider by the domain of a work email address (`Organisation.email_domains`).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from competency_app.accounts.models import Organisation
from competency_app.extensions import db

DEFAULT_KEY = ""  # the provider of the single OIDC_* settings


@dataclass(frozen=True)
class SsoSettings:
    """One provider's settings (config.py documents each)."""

    issuer: str
    client_id: str
    client_secret: str
    scopes: str
    display_name: str
    email_claim: str
    email_verified_claim: str
    groups_claim: str
    group_roles: tuple[tuple[str, str, str], ...]
    create_accounts: bool
    new_account_team: str
    timeout: float
    token_auth_method: str
    # DEFAULT_KEY for the OIDC_* provider (the first organisation's), else its
    # organisation's slug
    key: str = DEFAULT_KEY


def _single() -> SsoSettings | None:
    config = current_app.config
    if not config.get("OIDC_ISSUER"):
        return None
    return SsoSettings(
        issuer=config["OIDC_ISSUER"].rstrip("/"),
        client_id=config["OIDC_CLIENT_ID"],
        client_secret=config["OIDC_CLIENT_SECRET"],
        scopes=config["OIDC_SCOPES"],
        display_name=config["OIDC_DISPLAY_NAME"],
        email_claim=config["OIDC_EMAIL_CLAIM"],
        email_verified_claim=config["OIDC_EMAIL_VERIFIED_CLAIM"],
        groups_claim=config["OIDC_GROUPS_CLAIM"],
        group_roles=tuple(config["OIDC_GROUP_ROLES"]),
        create_accounts=bool(config["OIDC_CREATE_ACCOUNTS"]),
        new_account_team=config["OIDC_NEW_ACCOUNT_TEAM"],
        timeout=float(config["OIDC_TIMEOUT_SECONDS"]),
        token_auth_method=config.get("OIDC_TOKEN_AUTH_METHOD") or "client_secret_basic",
    )


def _of_organisation(slug: str, entry: dict) -> SsoSettings:
    """An OIDC_PROVIDERS entry; what it leaves out defaults as the OIDC_* settings do."""
    config = current_app.config
    verified = entry.get("email_verified_claim")
    return SsoSettings(
        issuer=str(entry["issuer"]).rstrip("/"),
        client_id=str(entry["client_id"]),
        client_secret=str(entry["client_secret"]),
        scopes=str(entry.get("scopes") or "openid email profile"),
        display_name=str(entry["display_name"]),
        email_claim=str(entry.get("email_claim") or "email"),
        email_verified_claim="email_verified" if verified is None else str(verified),
        groups_claim=str(entry.get("groups_claim") or ""),
        group_roles=tuple(tuple(g) for g in entry.get("group_roles") or ()),
        create_accounts=bool(entry.get("create_accounts")),
        new_account_team=str(entry.get("new_account_team") or ""),
        timeout=float(entry.get("timeout_seconds") or config["OIDC_TIMEOUT_SECONDS"]),
        token_auth_method=str(entry.get("token_auth_method") or "client_secret_basic"),
        key=slug,
    )


def first_organisation() -> Organisation | None:
    """The organisation the OIDC_* provider signs people in for (None before any)."""
    return db.session.scalar(select(Organisation).order_by(Organisation.id).limit(1))


def providers() -> list[SsoSettings]:
    """Every provider configured, the OIDC_* one first. An OIDC_PROVIDERS entry for the
    first organisation takes its place."""
    entries = current_app.config.get("OIDC_PROVIDERS") or {}
    found = [_of_organisation(slug, entry) for slug, entry in entries.items()]
    single = _single()
    if single is not None:
        first = first_organisation() if entries else None
        if first is None or first.slug not in entries:
            found.insert(0, single)
    return found


def settings(key: str | None = DEFAULT_KEY) -> SsoSettings | None:
    """The provider with this key; with the default key, the OIDC_* provider, else the
    first one configured. None when there is none (sign-in with a provider is off)."""
    configured = providers()
    for provider in configured:
        if provider.key == (key or DEFAULT_KEY):
            return provider
    if not key and configured:
        return configured[0]
    return None


def organisation_of(provider: SsoSettings) -> Organisation | None:
    """The organisation whose people `provider` signs in."""
    if provider.key == DEFAULT_KEY:
        return first_organisation()
    return db.session.scalar(select(Organisation).where(Organisation.slug == provider.key))


@dataclass(frozen=True)
class SignInChoice:
    """A button on the sign-in page: a provider and the organisation it is for."""

    provider: SsoSettings
    organisation: Organisation | None


def choices() -> list[SignInChoice]:
    """The providers offered on the sign-in page: those whose organisation exists (the
    OIDC_* one always, as before there were several)."""
    offered = []
    for provider in providers():
        organisation = organisation_of(provider)
        if organisation is not None or provider.key == DEFAULT_KEY:
            offered.append(SignInChoice(provider, organisation))
    return offered


def organisation_by_email(email: str) -> Organisation | None:
    """The organisation that lists the domain of `email` among its email domains."""
    domain = email.rpartition("@")[2].strip().lower()
    if not domain:
        return None
    for organisation in db.session.scalars(
        select(Organisation).where(Organisation.email_domains.contains(domain))
    ):
        if domain in organisation.domains:
            return organisation
    return None


def provider_for_organisation(organisation: Organisation) -> SsoSettings | None:
    for choice in choices():
        if choice.organisation is not None and choice.organisation.id == organisation.id:
            return choice.provider
    return None
