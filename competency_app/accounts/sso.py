"""Sign-in with the organisation's OpenID Connect provider, through Authlib's Flask client.

The authorisation code flow with PKCE (S256), `state` and `nonce` (Authlib keeps the three
in the session between the two requests), the provider's endpoints and keys discovered from
`<issuer>/.well-known/openid-configuration`, and the ID token's signature, issuer, audience
(`aud` must name this client: Authlib alone accepts another audience when `azp` names it),
expiry and nonce checked before anyone is signed in.

Who is signed in: the person already linked to the provider's (issuer, subject); otherwise
the person an administrator or an import created with the verified email address the token
carries, who is then linked. Nobody else, unless just-in-time accounts are switched on
(OIDC_CREATE_ACCOUNTS), and then only as a keyworker. Every refusal has a reason code
(`REFUSALS`), a page of its own and an audit event; no token or claim value is stored.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app, request, session
from sqlalchemy import select

from competency_app.accounts import services
from competency_app.accounts.audit import AuditAction
from competency_app.accounts.models import Role, RoleAssignment, SsoIdentity, Team, User
from competency_app.clock import utcnow
from competency_app.extensions import db

if TYPE_CHECKING:
    from joserfc.errors import ClaimError

# Authlib (with requests and joserfc) is imported on the first sign-in with the provider,
# not when the app loads: about 17 MB a web worker that a site without it never needs.

CLIENT_NAME = "organisation"  # Authlib's name for the provider (keys in the session)
LEEWAY_SECONDS = 60  # clock difference allowed between this server and the provider


@dataclass(frozen=True)
class SsoSettings:
    """The provider settings from the app's config (config.py documents each)."""

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


def settings() -> SsoSettings | None:
    """The running app's provider settings; None when sign-in with a provider is off."""
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


def local_passwords_allowed() -> bool:
    return bool(current_app.config.get("LOCAL_PASSWORDS", True))


# ---- refusals ---------------------------------------------------------------------------

NOT_VERIFIED = "We could not verify your sign-in"
START_AGAIN = (
    "You are not signed in. Start again; if it keeps happening, tell your IT service desk."
)

# reason -> (HTTP status, page title, what happened and what to do)
REFUSALS: dict[str, tuple[int, str, str]] = {
    "provider_unavailable": (
        503,
        "The sign-in service is not answering",
        "Your organisation's sign-in service could not be reached, so you are not signed in. "
        "Try again in a few minutes; if it keeps happening, tell your IT service desk.",
    ),
    "access_denied": (
        403,
        "You did not allow the sign-in",
        "The sign-in was cancelled, or access to this service was not allowed, so you are not "
        "signed in. Start again if you meant to sign in.",
    ),
    "provider_error": (
        400,
        "The sign-in service refused the sign-in",
        "Your organisation's sign-in service did not sign you in. " + START_AGAIN,
    ),
    "replayed": (
        400,
        "This sign-in has already been used or has expired",
        "Each sign-in works once, for a few minutes, in the browser that started it. "
        "Start again from the sign-in page.",
    ),
    "tampered_token": (
        400,
        NOT_VERIFIED,
        "The answer from the sign-in service does not carry its valid signature: it may have "
        "been altered on the way. " + START_AGAIN,
    ),
    "wrong_audience": (
        400,
        NOT_VERIFIED,
        "The answer from the sign-in service was issued to another application, not to this "
        "one. " + START_AGAIN,
    ),
    "wrong_issuer": (
        400,
        NOT_VERIFIED,
        "The answer came from a sign-in service other than the one this application trusts. "
        + START_AGAIN,
    ),
    "wrong_nonce": (
        400,
        NOT_VERIFIED,
        "The answer from the sign-in service belongs to another sign-in attempt. " + START_AGAIN,
    ),
    "expired_token": (
        400,
        NOT_VERIFIED,
        "The answer from the sign-in service has expired. Start again; if it keeps happening, "
        "check that this computer's clock is right.",
    ),
    "invalid_token": (
        400,
        NOT_VERIFIED,
        "The answer from the sign-in service is incomplete or not in the expected form. "
        + START_AGAIN,
    ),
    "no_email": (
        403,
        "Your sign-in does not give an email address",
        "Your organisation's sign-in service did not give this application your email "
        "address, which is how your account here is found. Tell your IT service desk.",
    ),
    "email_not_verified": (
        403,
        "Your email address is not verified",
        "Your organisation's sign-in service has not verified your email address, so it cannot "
        "be used to find your account. Verify it there, or tell your IT service desk.",
    ),
    "unknown_user": (
        403,
        "There is no account for you in this service",
        "You signed in with your organisation, but nobody has added you to this service. Ask "
        "your manager, HR or an administrator to add you with your work email address, then "
        "sign in again.",
    ),
    "account_disabled": (
        403,
        "Your account is disabled",
        "Your account in this service has been disabled. Ask an administrator if you think "
        "this is wrong.",
    ),
    "identity_mismatch": (
        403,
        "This account is linked to someone else",
        "The account with your email address is linked to a different person at your "
        "organisation's sign-in service. Ask an administrator to check the account.",
    ),
}


class SsoRefusal(Exception):
    """A refused sign-in through the provider; `reason` is a key of REFUSALS."""

    def __init__(self, reason: str, account: User | None = None):
        super().__init__(reason)
        self.reason = reason
        self.account = account
        self.status, self.title, self.message = REFUSALS[reason]


def record_refusal(refusal: SsoRefusal) -> None:
    """Audit a refused sign-in: the reason code and, for a known account, its email."""
    account = refusal.account
    services.record(
        AuditAction.SSO_SIGN_IN_FAILED,
        None,
        target=account.email if account is not None else None,
        actor_label=account.email if account is not None else "unknown",
        reason=refusal.reason,
    )


# ---- the Authlib client -----------------------------------------------------------------


def _client(config: SsoSettings):
    """Authlib's client for these settings, built once per app and settings."""
    clients = current_app.extensions.setdefault("competency_sso_clients", {})
    client = clients.get(config)
    if client is None:
        from authlib.integrations.flask_client import OAuth  # noqa: PLC0415 - see above

        oauth = OAuth(current_app._get_current_object())  # type: ignore[attr-defined]
        client = oauth.register(
            name=CLIENT_NAME,
            client_id=config.client_id,
            client_secret=config.client_secret,
            server_metadata_url=f"{config.issuer}/.well-known/openid-configuration",
            client_kwargs={
                "scope": config.scopes,
                "code_challenge_method": "S256",
                "token_endpoint_auth_method": config.token_auth_method,
                "default_timeout": config.timeout,
            },
        )
        clients.clear()  # settings changed: the old client (and its cached keys) goes
        clients[config] = client
    return client


def _metadata(client, config: SsoSettings) -> dict:
    """The provider's discovery document; its issuer must be the configured one."""
    import requests  # noqa: PLC0415 - with Authlib, on first use

    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError):
        raise SsoRefusal("provider_unavailable") from None
    if metadata.get("issuer", "").rstrip("/") != config.issuer:
        client.server_metadata.clear()  # read again next time
        raise SsoRefusal("wrong_issuer")
    return metadata


def begin(redirect_uri: str):
    """The redirect to the provider's sign-in page (state, nonce and PKCE verifier kept in
    the session); SsoRefusal("provider_unavailable") when it cannot be reached."""
    config = settings()
    assert config is not None  # the views answer 404 first when the provider is off
    client = _client(config)
    _metadata(client, config)
    return client.authorize_redirect(redirect_uri)


def _claim_refusal(error: ClaimError) -> str:
    return {
        "aud": "wrong_audience",
        "azp": "wrong_audience",
        "iss": "wrong_issuer",
        "nonce": "wrong_nonce",
        "exp": "expired_token",
    }.get(error.claim, "invalid_token")


def _verified_claims(config: SsoSettings) -> dict:
    """Exchange the callback's code (with the PKCE verifier) and check the ID token."""
    import requests  # noqa: PLC0415 - with Authlib, on first use
    from authlib.integrations.base_client import (  # noqa: PLC0415 - on first use
        MismatchingStateError,
        OAuthError,
    )
    from joserfc.errors import (  # noqa: PLC0415 - with Authlib, on first use
        BadSignatureError,
        ClaimError,
        ExpiredTokenError,
        JoseError,
    )

    client = _client(config)
    metadata = _metadata(client, config)
    error = request.args.get("error")
    returned_issuer = request.args.get("iss")  # RFC 9207: defends against mix-ups
    if returned_issuer is not None and returned_issuer.rstrip("/") != config.issuer:
        raise SsoRefusal("wrong_issuer")
    if error:
        # Authlib raises before it reads the state: forget this attempt's state here.
        client.framework.clear_state_data(session, request.args.get("state"))
        raise SsoRefusal("access_denied" if error == "access_denied" else "provider_error")
    claims_options = {
        "iss": {"essential": True, "values": [config.issuer, config.issuer + "/"]},
        "aud": {"essential": True, "values": [config.client_id]},
        "exp": {"essential": True},
    }
    try:
        token = client.authorize_access_token(claims_options=claims_options, leeway=LEEWAY_SECONDS)
    except MismatchingStateError:
        raise SsoRefusal("replayed") from None
    except OAuthError as refused:
        # invalid_grant: the code was used already, has expired or is not this client's
        raise SsoRefusal(
            "replayed" if refused.error == "invalid_grant" else "provider_error"
        ) from None
    except requests.RequestException:
        raise SsoRefusal("provider_unavailable") from None
    except BadSignatureError:
        raise SsoRefusal("tampered_token") from None
    except ExpiredTokenError:
        raise SsoRefusal("expired_token") from None
    except ClaimError as claim_error:
        raise SsoRefusal(_claim_refusal(claim_error)) from None
    except JoseError:
        raise SsoRefusal("invalid_token") from None
    id_token = token.get("userinfo")
    if not id_token:  # no ID token in the token response: nothing verifies who this is
        raise SsoRefusal("invalid_token")
    claims = dict(id_token)
    if config.email_claim not in claims and metadata.get("userinfo_endpoint"):
        # Providers that keep the ID token small give the other claims at userinfo; those
        # count only for the same subject (OpenID Connect Core 5.3.2).
        try:
            userinfo = client.userinfo(token=token)
        except requests.RequestException:
            raise SsoRefusal("provider_unavailable") from None
        if userinfo.get("sub") != claims["sub"]:
            raise SsoRefusal("invalid_token")
        claims = {**userinfo, **claims}
    return claims


# ---- who is signed in -------------------------------------------------------------------


def _email_of(claims: dict, config: SsoSettings) -> str:
    email = claims.get(config.email_claim)
    if not isinstance(email, str) or not services.EMAIL_PATTERN.match(email.strip()):
        raise SsoRefusal("no_email")
    if config.email_verified_claim and claims.get(config.email_verified_claim) is not True:
        raise SsoRefusal("email_not_verified")
    return services.normalise_email(email)


def _groups_of(claims: dict, config: SsoSettings) -> set[str]:
    groups = claims.get(config.groups_claim) if config.groups_claim else None
    if isinstance(groups, str):
        groups = [groups]
    return {g for g in groups if isinstance(g, str)} if isinstance(groups, list) else set()


def _grant_key(role: Role, team: Team | None) -> str:
    return f"{role.value}@{team.slug if team else 'organisation'}"


def _sync_group_roles(user: User, claims: dict, config: SsoSettings) -> None:
    """Give the team roles the person's groups map to, and take away mapped roles whose group
    they have left; roles an administrator gave outside the mapping stay as they are.
    Administrator and HR never come from a group (config.py refuses such a mapping)."""
    if not config.groups_claim or not config.group_roles:
        return
    groups = _groups_of(claims, config)
    teams = {
        t.slug: t
        for t in db.session.scalars(
            select(Team).where(Team.slug.in_({slug for _, _, slug in config.group_roles}))
        )
    }
    mapped = {(Role(role), slug) for _, role, slug in config.group_roles if slug in teams}
    wanted = {
        (Role(role), slug)
        for group, role, slug in config.group_roles
        if group in groups and slug in teams
    }
    held = {(a.role, a.team.slug): a for a in user.roles if a.team is not None}
    before = sorted(_grant_key(a.role, a.team) for a in user.roles)
    removed = [held[key] for key in mapped - wanted if key in held]
    added = [key for key in wanted if key not in held]
    if not removed and not added:
        return
    new_roles = ({a.role for a in user.roles if a not in removed}) | {r for r, _ in added}
    if not new_roles:
        return  # leaving every mapped group does not leave a person with no role at all
    services.check_may_change(None, user, new_roles)
    for assignment in removed:
        user.roles.remove(assignment)
    db.session.flush()
    user.roles.extend(RoleAssignment(role=role, team=teams[slug]) for role, slug in added)
    user.session_version += 1  # other sessions pick up the new rights at once
    db.session.flush()
    after = sorted(_grant_key(a.role, a.team) for a in user.roles)
    services.record(
        "roles_changed", None, target=user.email, old=before, new=after, actor_label="sso"
    )


def _new_account(email: str, claims: dict, config: SsoSettings) -> User:
    """A just-in-time account: a keyworker in OIDC_NEW_ACCOUNT_TEAM, with no password."""
    team = db.session.scalar(select(Team).where(Team.slug == config.new_account_team))
    if team is None:
        raise SsoRefusal("unknown_user")  # misconfigured: refuse rather than guess a team
    name = claims.get("name")
    if not isinstance(name, str) or not name.strip():
        name = email.split("@", 1)[0]
    user = services.create_user(
        email,
        name.strip()[:200],
        secrets.token_urlsafe(24),  # replaced below: nobody ever knows it
        [services.RoleGrant(Role.PRACTITIONER, team)],
        None,
    )
    user.password_hash = services.NO_PASSWORD
    return user


def _identity(issuer: str, subject: str) -> SsoIdentity | None:
    return db.session.scalar(
        select(SsoIdentity).where(SsoIdentity.issuer == issuer, SsoIdentity.subject == subject)
    )


def _account_for(claims: dict, config: SsoSettings) -> tuple[User, bool]:
    """The person these verified claims sign in, and whether they were linked just now."""
    subject = claims["sub"]
    identity = _identity(config.issuer, subject)
    if identity is not None:
        identity.last_used_at = utcnow()
        return identity.user, False
    email = _email_of(claims, config)
    user = services.user_by_email(email)
    if user is None:
        if not config.create_accounts:
            raise SsoRefusal("unknown_user")
        user = _new_account(email, claims, config)
    linked = db.session.scalar(
        select(SsoIdentity).where(
            SsoIdentity.user_id == user.id, SsoIdentity.issuer == config.issuer
        )
    )
    if linked is not None:  # the address now names someone else at the provider
        raise SsoRefusal("identity_mismatch", account=user)
    db.session.add(
        SsoIdentity(
            user_id=user.id,
            issuer=config.issuer,
            subject=subject,
            linked_at=utcnow(),
            last_used_at=utcnow(),
        )
    )
    db.session.flush()
    return user, True


def finish() -> User:
    """The person the provider's callback signs in (audited), or SsoRefusal.

    Flushes only: the view commits, and records the refusal (`record_refusal`) in its own
    unit of work when this raises.
    """
    config = settings()
    assert config is not None  # the views answer 404 first when the provider is off
    claims = _verified_claims(config)
    user, linked = _account_for(claims, config)
    if not user.active:
        raise SsoRefusal("account_disabled", account=user)
    _sync_group_roles(user, claims, config)
    user.last_sign_in_at = utcnow()
    services.record("sign_in", user, method="sso", linked=linked)
    return user


# ---- links, as administrators see them ----------------------------------------------------


def links_of(user: User) -> list[SsoIdentity]:
    """The person's links to providers' subjects, oldest first."""
    return list(
        db.session.scalars(
            select(SsoIdentity).where(SsoIdentity.user_id == user.id).order_by(SsoIdentity.id)
        )
    )


def remove_links(user: User, actor: User) -> int:
    """Unlink the person from every provider subject (their next sign-in through the provider
    links them again by verified email) and end their sessions; returns how many went."""
    links = links_of(user)
    for link in links:
        db.session.delete(link)
    if links:
        user.session_version += 1
        services.record(AuditAction.SSO_LINK_REMOVED, actor, target=user.email, links=len(links))
    db.session.flush()
    return len(links)
