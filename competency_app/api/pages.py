"""The pages around the API: personal API tokens and the readable API documentation."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from competency_app.accounts.models import User
from competency_app.accounts.permissions import SIGNED_IN, access
from competency_app.api.forms import NewTokenForm
from competency_app.api.models import ApiToken
from competency_app.api.tokens import (
    MAX_ACTIVE_TOKENS,
    TokenError,
    create_token,
    may_hold_tokens,
    revoke_token,
    tokens_of,
)
from competency_app.api.views import cached_spec
from competency_app.clock import utcnow
from competency_app.common.loaders import get_or_404
from competency_app.database import unit_of_work

blueprint = Blueprint("api_pages", __name__)


def own_token(user: User, token_id: int, **_kwargs) -> bool:
    """A token is revoked by its owner (who must still be allowed tokens)."""
    return may_hold_tokens(user) and get_or_404(ApiToken, token_id).owner_id == user.id


def _tokens_page(form: NewTokenForm, status: int = 200, new_secret: str | None = None):
    now = utcnow()
    tokens = tokens_of(current_user)
    return (
        render_template(
            "api/tokens.html",
            title="API tokens",
            form=form,
            tokens=tokens,
            now=now,
            new_secret=new_secret,
            active=sum(1 for t in tokens if t.is_usable(now)),
            max_active=MAX_ACTIVE_TOKENS,
        ),
        status,
    )


@blueprint.route("/account/api-tokens", methods=["GET", "POST"])
@access(may_hold_tokens)
def tokens():
    form = NewTokenForm()
    if not form.is_submitted():
        return _tokens_page(form)
    if form.validate():
        try:
            with unit_of_work():
                new = create_token(current_user, form.name.data or "", form.lifetime)
        except TokenError as error:
            field = getattr(form, error.field or "name")
            field.errors = [str(error)]
        else:
            # Shown in this answer only (never stored, never in a later page): no redirect.
            return _tokens_page(NewTokenForm(formdata=None), new_secret=new.secret)
    return _tokens_page(form, 400)


@blueprint.route("/account/api-tokens/<int:token_id>/revoke", methods=["GET", "POST"])
@access(own_token)
def revoke(token_id: int):
    token = get_or_404(ApiToken, token_id)
    form = NewTokenForm()  # the CSRF token only
    if form.is_submitted():
        if token.revoked_at is not None:
            abort(409, "This token has already been revoked.")
        with unit_of_work():
            revoke_token(token, current_user)
        flash(f"The token “{token.name}” has been revoked: it no longer works.", "success")
        return redirect(url_for("api_pages.tokens"), code=303)
    return render_template("api/revoke.html", title="Revoke an API token", token=token)


@blueprint.get("/api-docs")
@access(SIGNED_IN)
def docs():
    """The OpenAPI document as a page: no script, nothing fetched from elsewhere."""
    return render_template(
        "api/docs.html", title="API documentation", spec=cached_spec(current_app)
    )
