"""Sign-in, sign-out and changing one's password."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import joinedload, with_expression

from competency_app.accounts import password_links, services, sso, sso_providers
from competency_app.accounts.forms import (
    ChangePasswordForm,
    SetPasswordForm,
    SignInForm,
    WorkEmailForm,
)
from competency_app.accounts.models import User
from competency_app.accounts.permissions import PUBLIC, SIGNED_IN, access
from competency_app.database import unit_of_work
from competency_app.extensions import Model, db, limiter, login_manager

blueprint = Blueprint("auth", __name__)

SIGN_IN_FAILED = "Enter a correct email address and password"
PASSWORDS_OFF = "Password sign-in is turned off"


@functools.cache
def _signed_in_person():
    """The signed-in person by id, with their roles and whether they sit on an interview
    panel, as a column of their row (the table is recruitment's, a layer above: named, not
    imported): every page asks for both (navigation, access rules). Built once: building
    a statement's loader options costs more than running it from the compiled cache."""
    panel = Model.metadata.tables["panel_member"]
    return (
        select(User)
        .options(
            joinedload(User.roles),
            with_expression(User.on_a_panel, exists().where(panel.c.user_id == User.id)),
        )
        .where(User.id == bindparam("id"))
    )


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Sessions carry `id:version`; a bumped version (sign-out, password…) ends them."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.execute(_signed_in_person(), {"id": int(user_id)}).unique().scalar()
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def safe_next(target: str | None) -> str:
    """Only same-site paths: never an absolute URL, scheme-relative URL or backslash trick."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("ui.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return url_for("ui.home")
    return target


def _account_key() -> str:
    return "account:" + services.normalise_email(request.form.get("email", ""))[:254]


def _failed(response) -> bool:
    """Only failed attempts count towards the sign-in limits."""
    return response.status_code == 200 and request.method == "POST"


@blueprint.route("/login", methods=["GET", "POST"])
@access(PUBLIC)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"], deduct_when=_failed
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_failed,
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("ui.home"))
    if sso.settings() is not None and request.method == "GET":
        signed_out_of = sso.returned_from_sign_out(request.args.get("state"))
        if signed_out_of:
            flash(f"You have signed out of this service and of {signed_out_of}.", "info")
    if not sso.local_passwords_allowed() and request.method == "POST":
        with unit_of_work():
            services.record(
                "sign_in_failed", None, actor_label="unknown", reason="password sign-in off"
            )
        return _passwords_off()
    form = SignInForm()
    if form.validate_on_submit():
        with unit_of_work():  # a failure keeps its audit event too
            user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            next_url = safe_next(request.args.get("next"))
            session.clear()  # a fresh session (and CSRF token) at every sign-in
            login_user(user)
            if user.must_change_password:
                return redirect(url_for("auth.change_password"))
            return redirect(next_url, code=303)
        form.email.errors.append(SIGN_IN_FAILED)  # the same answer for both failures
    return _login_page(form, WorkEmailForm(formdata=None))


def _login_page(form: SignInForm, work_email: WorkEmailForm):
    choices = sso_providers.choices()
    return render_template(
        "accounts/login.html",
        form=form,
        work_email=work_email,
        title="Sign in",
        provider=choices[0].provider if choices else None,
        choices=choices,
        local_passwords=sso.local_passwords_allowed(),
    )


def _passwords_off():
    return (
        render_template(
            "errors/error.html",
            title=PASSWORDS_OFF,
            message="This service signs people in through their organisation's account only. "
            "Go back to the sign-in page and use the sign-in button.",
        ),
        403,
    )


def _sso_failed(response) -> bool:
    """Refused callbacks count towards the per-address sign-in limit."""
    return response.status_code >= 400


def _public_url(endpoint: str) -> str:
    """An address the provider sends people back to: PUBLIC_URL's when set (behind a proxy
    that rewrites the host), else this request's own address."""
    public = current_app.config.get("PUBLIC_URL") or ""
    if public:
        return public.rstrip("/") + url_for(endpoint)
    return url_for(endpoint, _external=True)


def _sso_refused(refusal: sso.SsoRefusal, provider: sso.SsoSettings | None):
    with unit_of_work():
        sso.record_refusal(refusal, provider)
    return (
        render_template(
            "accounts/sso_refused.html",
            title=refusal.title,
            refusal=refusal,
            provider=provider,
            several=len(sso_providers.choices()) > 1,
            local_passwords=sso.local_passwords_allowed(),
        ),
        refusal.status,
    )


NO_PROVIDER_FOR_EMAIL = (
    "No organisation here signs in people with an email address at {domain}: check the "
    "address, choose your organisation's button, or sign in with a password"
)


@blueprint.route("/login/sso", methods=["GET", "POST"])
@access(PUBLIC)
def sso_start():
    """Send the person to their organisation's provider to sign in: the one of the button
    they chose (`organisation`), or, posted, the one of their work email's domain."""
    if sso.settings() is None:
        abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("ui.home"))
    if request.method == "POST":
        work_email = WorkEmailForm()
        provider = None
        if work_email.validate_on_submit():
            email = services.normalise_email(work_email.work_email.data)
            organisation = sso_providers.organisation_by_email(email)
            if organisation is not None:
                provider = sso_providers.provider_for_organisation(organisation)
            if provider is None:
                domain = email.rpartition("@")[2] or email
                work_email.work_email.errors.append(NO_PROVIDER_FOR_EMAIL.format(domain=domain))
        if provider is None:
            return _login_page(SignInForm(formdata=None), work_email), 400
    else:
        key = request.args.get("organisation", sso_providers.DEFAULT_KEY)
        offered = {choice.provider.key: choice.provider for choice in sso_providers.choices()}
        provider = offered.get(key) if key else sso.settings()
        if provider is None:  # no such organisation, or none with its own provider
            abort(404)
    session["sso_next"] = safe_next(request.args.get("next"))
    try:
        return sso.begin(provider, _public_url("auth.sso_callback"))
    except sso.SsoRefusal as refusal:
        return _sso_refused(refusal, provider)


@blueprint.get("/login/sso/callback")
@access(PUBLIC)
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], deduct_when=_sso_failed)
def sso_callback():
    """The provider's answer: the code is exchanged and the ID token checked (sso.py)."""
    if sso.settings() is None:
        abort(404)
    next_url = safe_next(session.get("sso_next"))
    provider = sso.callback_provider()
    if provider is None:  # the provider this sign-in went to is configured no more
        return _sso_refused(sso.SsoRefusal("replayed"), None)
    try:
        with unit_of_work():
            signed_in = sso.finish(provider)
    except sso.SsoRefusal as refusal:
        return _sso_refused(refusal, provider)
    if signed_in.refusal is not None:  # the roles taken away are kept; nobody signs in
        return _sso_refused(signed_in.refusal, provider)
    session.clear()  # a fresh session (and CSRF token) at every sign-in
    login_user(signed_in.user)
    sso.remember_sign_in(signed_in.id_token, provider)
    return redirect(next_url, code=303)


@blueprint.post("/logout")
@access(SIGNED_IN)
def logout():
    """Sign out here and, for a session that came through the provider, there too."""
    at_provider = sso.provider_sign_out(_public_url("auth.login"))
    with unit_of_work():
        services.sign_out(
            current_user._get_current_object(),
            None if at_provider is None else at_provider.url is not None,
        )
    logout_user()
    session.clear()
    if at_provider is not None and at_provider.url is not None:
        sso.expect_return(at_provider)
        return redirect(at_provider.url, code=303)
    if at_provider is not None:
        flash(
            f"You have signed out of this service, but you may still be signed in to "
            f"{at_provider.display_name}. On a shared computer, sign out there too or close "
            "every browser window.",
            "info",
        )
    else:
        flash("You have signed out.", "info")
    return redirect(url_for("auth.login"), code=303)


@blueprint.route("/account/password", methods=["GET", "POST"])
@access(SIGNED_IN)
def change_password():
    if not sso.local_passwords_allowed():
        abort(404)
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            with unit_of_work():
                services.change_password(user, form.current_password.data, form.new_password.data)
        except services.AccountError as error:
            getattr(form, error.field or "new_password").errors.append(str(error))
        else:
            session.clear()
            login_user(user)  # this browser keeps its session; every other one ends
            flash("Your password has been changed.", "success")
            return redirect(url_for("ui.home"), code=303)
    return render_template("accounts/change_password.html", form=form, title="Change your password")


@blueprint.route("/set-password/<token>", methods=["GET", "POST"])
@access(PUBLIC)
def set_password(token: str):
    """A new person chooses their password through their one-time link and is signed in."""
    if not sso.local_passwords_allowed():
        abort(404)
    link = password_links.valid_link(token)
    if link is None:
        return (
            render_template(
                "errors/error.html",
                title="This link does not work",
                message="The link has been used, has expired or is not complete. Ask HR or "
                "an administrator for a new one.",
            ),
            404,
        )
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                user = password_links.set_password_by_link(link, form.new_password.data)
        except services.AccountError as error:
            form.new_password.errors.append(str(error))
        else:
            # Signed in at once, in a fresh session (a new session id and CSRF token; any
            # other session of this person ended with the new session version). The link
            # is spent: it cannot sign anyone in again.
            if current_user.is_authenticated:
                logout_user()
            session.clear()
            login_user(user)
            flash("Your password is set and you are signed in.", "success")
            return redirect(url_for("ui.home"), code=303)
    status = 400 if request.method == "POST" else 200
    return (
        render_template(
            "accounts/set_password.html", form=form, person=link.user, title="Set your password"
        ),
        status,
    )
