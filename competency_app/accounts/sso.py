"""Sign-in with the organisation's OpenID Connect provider, through Authlib's Flask client.

Each organisation may have its own provider (`sso_providers.py`): the sign-in keeps which
one it went to in the session beside Authlib's state, the callback uses that one, and a
provider signs in, links or creates only people its own organisation employs (a person of
another organisation is refused as `wrong_organisation`).

The authorisation code flow with PKCE (S256), `state` and `nonce` (Authlib keeps the three
in the session between the two requests), the provider's endpoints and keys discovered from
`<issuer>/.well-known/openid-configuration`, and the ID token's signature, issuer, audience
(`aud` must name this client: Authlib alone accepts another audience when `azp` names it),
expiry and nonce checked before anyone is signed in.

Who is signed in: the person already linked to the provider's (issuer, subject); otherwise
the person an administrator or an import created with the verified email address the token
carries, who is then linked. Nobody else, unless just-in-time accounts are switched on
(OIDC_CREATE_ACCOUNTS), and then only as a keyworker. Every refusal has a reason code
(`REFUSALS`), a page of its own and an audit event; no token or claim value is stored in
the database.

Roles from the provider's groups (OIDC_GROUP_ROLES) follow the groups at every sign-in,
hand-given roles stay (`_sync_group_roles`). Signing out of a session that came through the
provider signs out there too when its discovery document names an `end_session_endpoint`
(`provider_sign_out`), with the ID token kept in the signed session as `id_token_hint`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from flask import current_app, request, session
from sqlalchemy import select

from competency_app.accounts import services
from competency_app.accounts.audit import AuditAction
from competency_app.accounts.models import (
    Organisation,
    Role,
    RoleAssignment,
    SsoIdentity,
    Team,
    User,
)
from competency_app.accounts.sso_providers import (
    DEFAULT_KEY,
    SsoSettings,
    organisation_by_email,
    organisation_of,
    settings,
)
from competency_app.clock import utcnow
from competency_app.common.text import CONTROL_CHARACTERS, email_problem
from competency_app.extensions import db

if TYPE_CHECKING:
    from joserfc.errors import ClaimError

# Authlib (with requests and joserfc) is imported on the first sign-in with the provider,
# not when the app loads: about 17 MB a web worker that a site without it never needs.

CLIENT_NAME = "organisation"  # Authlib's name for the OIDC_* provider (keys in the session)
PROVIDER_KEY = "sso_provider"  # in the session: which provider a sign-in went to, or came from
LEEWAY_SECONDS = 60  # clock difference allowed between this server and the provider


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
    "no_role": (
        403,
        "You have no role in this service any more",
        "Your organisation's sign-in service no longer puts you in a group that gives you a "
        "role here, so the roles that group gave you have been taken away and you are not "
        "signed in. If you still need this service, ask your manager or IT service desk to "
        "add you to the right group, or an administrator to give you a role.",
    ),
    "wrong_organisation": (
        403,
        "Sign in with your own organisation's account",
        "The account with your email address belongs to another organisation, and each "
        "organisation signs its own people in. Go back to the sign-in page and choose your "
        "organisation's sign-in, or type your work email address there.",
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


def record_refusal(refusal: SsoRefusal, provider: SsoSettings | None = None) -> None:
    """Audit a refused sign-in: the reason code, the provider's organisation and, for a
    known account, its email. It goes in the log of the account's employer, else of the
    provider's organisation."""
    account = refusal.account
    organisation = organisation_of(provider) if provider is not None else None
    services.record(
        AuditAction.SSO_SIGN_IN_FAILED,
        None,
        target=account.email if account is not None else None,
        organisation_id=account.organisation_id
        if account is not None
        else (organisation.id if organisation is not None else None),
        actor_label=account.email if account is not None else "unknown",
        reason=refusal.reason,
        **({"provider": organisation.slug} if organisation is not None else {}),
    )


# ---- the Authlib client -----------------------------------------------------------------


def _client(config: SsoSettings):
    """Authlib's client for these settings, built once per app, provider and settings."""
    clients = current_app.extensions.setdefault("competency_sso_clients", {})
    built = clients.get(config.key)
    client = built[1] if built is not None and built[0] == config else None
    if client is None:
        from authlib.integrations.flask_client import OAuth  # noqa: PLC0415 - see above

        oauth = OAuth(current_app._get_current_object())  # type: ignore[attr-defined]
        client = oauth.register(
            # the name keys the sign-in's state in the session: one per provider
            name=CLIENT_NAME if config.key == DEFAULT_KEY else f"{CLIENT_NAME}-{config.key}",
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
        # settings changed: the old client (and its cached keys) goes
        clients[config.key] = (config, client)
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


def begin(config: SsoSettings, redirect_uri: str):
    """The redirect to the provider's sign-in page (state, nonce and PKCE verifier kept in
    the session, with which provider it is); SsoRefusal("provider_unavailable") when it
    cannot be reached."""
    client = _client(config)
    _metadata(client, config)
    session[PROVIDER_KEY] = config.key if config is not None else DEFAULT_KEY
    return client.authorize_redirect(redirect_uri)


def callback_provider() -> SsoSettings | None:
    """The provider the sign-in in this session was sent to (the OIDC_* one for a
    session that names none)."""
    return settings(session.get(PROVIDER_KEY, DEFAULT_KEY))


def _claim_refusal(error: ClaimError) -> str:
    return {
        "aud": "wrong_audience",
        "azp": "wrong_audience",
        "iss": "wrong_issuer",
        "nonce": "wrong_nonce",
        "exp": "expired_token",
    }.get(error.claim, "invalid_token")


def _verified_claims(config: SsoSettings) -> tuple[dict, str]:
    """Exchange the callback's code (with the PKCE verifier) and check the ID token; the
    verified claims and the ID token as the provider issued it (for sign-out)."""
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
    issued = token.get("id_token") or ""
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
    return claims, issued


# ---- who is signed in -------------------------------------------------------------------


def _email_of(claims: dict, config: SsoSettings) -> str:
    email = claims.get(config.email_claim)
    # the provider's address is held to the rule of every address typed here
    if not isinstance(email, str) or email_problem(email.strip()) is not None:
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
    """Roles from the mapping follow the person's groups at each sign-in.

    A mapped role whose group they are in is given (marked `from_group`); a role the mapping
    gave is taken away once the sign-in no longer carries its group (or the mapping no
    longer gives it), even the person's last role. A role given by hand (an administrator,
    HR, an import) is never taken away here, nor taken over by a group that maps to it.
    Administrator and HR never come from a group (config.py refuses such a mapping). With
    the mapping off (no groups claim or no mapping) nothing changes.
    """
    if not config.groups_claim or not config.group_roles:
        return
    groups = _groups_of(claims, config)
    teams = {
        t.slug: t
        for t in db.session.scalars(
            select(Team).where(Team.slug.in_({slug for _, _, slug in config.group_roles}))
        )
    }
    wanted = {
        (Role(role), slug)
        for group, role, slug in config.group_roles
        if group in groups and slug in teams
    }
    held = {(a.role, a.team.slug) for a in user.roles if a.team is not None}
    removed = [
        a
        for a in user.roles
        if a.from_group and (a.role, a.team.slug if a.team else "") not in wanted
    ]
    added = sorted(wanted - held)
    if not removed and not added:
        return
    before = sorted(_grant_key(a.role, a.team) for a in user.roles)
    new_roles = {a.role for a in user.roles if a not in removed} | {r for r, _ in added}
    services.check_may_change(None, user, new_roles)  # the one rule for every grant
    for assignment in removed:
        user.roles.remove(assignment)
    user.roles.extend(
        RoleAssignment(role=role, team=teams[slug], from_group=True) for role, slug in added
    )
    user.session_version += 1  # other sessions pick up the new rights at once
    db.session.flush()
    after = sorted(_grant_key(a.role, a.team) for a in user.roles)
    services.record(
        AuditAction.ROLES_CHANGED,
        None,
        target=user.email,
        old=before,
        new=after,
        actor_label="sso",
        groups=True,
    )


def _new_account(
    email: str, claims: dict, config: SsoSettings, organisation: Organisation | None
) -> User:
    """A just-in-time account: a keyworker in OIDC_NEW_ACCOUNT_TEAM, with no password,
    employed by the provider's organisation."""
    team = db.session.scalar(select(Team).where(Team.slug == config.new_account_team))
    if team is None or (organisation is not None and team.organisation_id != organisation.id):
        raise SsoRefusal("unknown_user")  # misconfigured: refuse rather than guess a team
    if organisation is not None:
        listed_by = organisation_by_email(email)
        if listed_by is not None and listed_by.id != organisation.id:
            raise SsoRefusal("wrong_organisation")  # another employer's address
    name = claims.get("name")
    # a name claim is the provider's to word: line breaks and other controls become spaces
    # (the forms refuse them; a sign-in is not refused for how the directory spells a name)
    name = " ".join(CONTROL_CHARACTERS.sub(" ", name).split()) if isinstance(name, str) else ""
    user = services.create_user(
        email,
        name[:200] or email.split("@", 1)[0],
        secrets.token_urlsafe(24),  # replaced below: nobody ever knows it
        [services.RoleGrant(Role.PRACTITIONER, team)],
        None,
        organisation=organisation,
    )
    user.password_hash = services.NO_PASSWORD
    return user


def _identity(issuer: str, subject: str) -> SsoIdentity | None:
    return db.session.scalar(
        select(SsoIdentity).where(SsoIdentity.issuer == issuer, SsoIdentity.subject == subject)
    )


def _employed_by(user: User, organisation: Organisation | None) -> User:
    """`user`, when the provider's organisation employs them; a provider signs in, links
    and creates only its own organisation's people."""
    if organisation is not None and user.organisation_id != organisation.id:
        raise SsoRefusal("wrong_organisation", account=user)
    return user


def _account_for(claims: dict, config: SsoSettings) -> tuple[User, bool]:
    """The person these verified claims sign in, and whether they were linked just now."""
    organisation = organisation_of(config)
    if organisation is None and config.key != DEFAULT_KEY:
        raise SsoRefusal("unknown_user")  # its organisation is not (or no longer) here
    subject = claims["sub"]
    identity = _identity(config.issuer, subject)
    if identity is not None:
        _employed_by(identity.user, organisation)
        identity.last_used_at = utcnow()
        return identity.user, False
    email = _email_of(claims, config)
    user = services.user_by_email(email)
    if user is None:
        if not config.create_accounts:
            raise SsoRefusal("unknown_user")
        user = _new_account(email, claims, config, organisation)
    _employed_by(user, organisation)
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


@dataclass(frozen=True)
class SsoSignIn:
    """What the provider's callback decided: who, the ID token as issued (the sign-out's
    `id_token_hint`), and a refusal that must keep this sign-in's changes (`no_role`)."""

    user: User
    id_token: str
    refusal: SsoRefusal | None = None


def finish(config: SsoSettings) -> SsoSignIn:
    """The person the provider's callback signs in (audited), or SsoRefusal.

    Flushes only: the view commits, and records the refusal (`record_refusal`) in its own
    unit of work when this raises. A person whose groups no longer give them any role
    loses the mapped roles and is refused: that refusal comes back in `refusal`, not
    raised, so that the view commits the roles taken away.
    """
    claims, id_token = _verified_claims(config)
    user, linked = _account_for(claims, config)
    if not user.active:
        raise SsoRefusal("account_disabled", account=user)
    _sync_group_roles(user, claims, config)
    if not user.roles:
        return SsoSignIn(user, id_token, SsoRefusal("no_role", account=user))
    user.last_sign_in_at = utcnow()
    event = services.record("sign_in", user, method="sso", linked=linked)
    if config.key != DEFAULT_KEY:  # which organisation's provider, when there are several
        event.detail = {**event.detail, "provider": config.key}
    return SsoSignIn(user, id_token)


# ---- signing out at the provider too -------------------------------------------------------

SIGNED_IN_KEY = "sso_id_token"  # in the session: signed in through the provider, and how
SIGNED_OUT_KEY = "sso_sign_out_state"
# The ID token rides in the signed session cookie (it is the person's own claims) when it
# leaves the cookie under a browser's 4 kB; a bigger one (many groups) is not kept, and the
# provider is sent the client id instead, which some providers answer with a question.
ID_TOKEN_KEPT_UP_TO = 2400


def remember_sign_in(id_token: str, config: SsoSettings | None = None) -> None:
    """Mark the new session as signed in through the provider (and which one), keeping
    the ID token for the sign-out's `id_token_hint` when it is small enough."""
    session[SIGNED_IN_KEY] = id_token if len(id_token) <= ID_TOKEN_KEPT_UP_TO else ""
    session[PROVIDER_KEY] = config.key if config is not None else DEFAULT_KEY


@dataclass(frozen=True)
class ProviderSignOut:
    """Where a sign-out through the provider goes next: the provider's end-session address
    with its parameters, or None when the provider offers none (or cannot be reached)."""

    url: str | None
    state: str
    display_name: str


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def provider_origin() -> str | None:
    """The origin of the OIDC_* provider (its issuer's). None when it is off."""
    return _origin(current_app.config.get("OIDC_ISSUER") or "")


def provider_origins() -> list[str]:
    """Every provider's origin (its issuer's), where the sign-in and sign-out forms may be
    redirected: the pages' Content-Security-Policy allows them in form-action."""
    issuers = [current_app.config.get("OIDC_ISSUER") or ""] + [
        str(entry.get("issuer") or "")
        for entry in (current_app.config.get("OIDC_PROVIDERS") or {}).values()
    ]
    origins = [origin for origin in map(_origin, issuers) if origin]
    return sorted(set(origins), key=origins.index)


def provider_sign_out(post_logout_redirect_uri: str) -> ProviderSignOut | None:
    """For a session signed in through the provider: RP-initiated logout (OpenID Connect
    RP-Initiated Logout 1.0) at the discovery document's `end_session_endpoint`, with
    `id_token_hint`, `client_id`, `post_logout_redirect_uri` and a fresh `state`. None for a
    session signed in with a password. Read before the session is cleared."""
    if SIGNED_IN_KEY not in session:
        return None
    id_token = session.get(SIGNED_IN_KEY) or ""
    config = settings(session.get(PROVIDER_KEY, DEFAULT_KEY))
    state = secrets.token_urlsafe(24)
    if config is None:
        return ProviderSignOut(None, state, current_app.config["OIDC_DISPLAY_NAME"])
    try:
        endpoint = _metadata(_client(config), config).get("end_session_endpoint")
    except SsoRefusal:
        endpoint = None
    if not isinstance(endpoint, str) or _origin(endpoint) != _origin(config.issuer):
        # elsewhere than the issuer's origin the page's form-action would stop the browser
        return ProviderSignOut(None, state, config.display_name)
    params = {
        **({"id_token_hint": id_token} if id_token else {}),
        "client_id": config.client_id,
        "post_logout_redirect_uri": post_logout_redirect_uri,
        "state": state,
    }
    separator = "&" if "?" in endpoint else "?"
    return ProviderSignOut(endpoint + separator + urlencode(params), state, config.display_name)


SIGNED_OUT_NAME_KEY = "sso_sign_out_from"


def expect_return(sign_out: ProviderSignOut) -> None:
    """Remember (in the session left after signing out) the state the provider returns,
    and which provider it is."""
    session[SIGNED_OUT_KEY] = sign_out.state
    session[SIGNED_OUT_NAME_KEY] = sign_out.display_name


def returned_from_sign_out(state: str | None) -> str | None:
    """The display name of the provider, when this request is it sending the person back
    after signing them out (the state given at sign-out, once); None otherwise."""
    if not state:
        return None
    expected = session.pop(SIGNED_OUT_KEY, None)
    name = session.pop(SIGNED_OUT_NAME_KEY, None)
    if expected and secrets.compare_digest(state, expected):
        return name or current_app.config["OIDC_DISPLAY_NAME"]
    return None


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
