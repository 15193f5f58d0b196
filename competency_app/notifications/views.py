"""The person's notifications and their email choices."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from competency_app.accounts.permissions import SIGNED_IN, access
from competency_app.common.forms import error_list
from competency_app.common.pagination import paginate
from competency_app.database import unit_of_work
from competency_app.notifications import services
from competency_app.notifications.forms import EmailChoicesForm

blueprint = Blueprint("notifications", __name__)


@blueprint.get("/notifications")
@access(SIGNED_IN)
def index():
    page = paginate(services.list_query(current_user), per_page=25)
    return render_template(
        "notifications/index.html",
        title="Notifications",
        page=page,
        services=services,
        unread=services.unread_count(current_user),
    )


@blueprint.post("/notifications/read")
@access(SIGNED_IN)
def mark_read():
    with unit_of_work():
        count = services.mark_all_read(current_user)
    flash(f"{count} marked as read." if count else "Nothing new to mark as read.", "success")
    return redirect(url_for("notifications.index"), code=303)


@blueprint.route("/notifications/settings", methods=["GET", "POST"])
@access(SIGNED_IN)
def settings():
    form = EmailChoicesForm()
    status = 200
    if form.is_submitted():
        if form.validate():
            with unit_of_work():
                services.set_email_choices(current_user, set(form.kinds.data or []))
            flash("Your email choices are saved.", "success")
            return redirect(url_for("notifications.settings"), code=303)
        status = 400
    else:
        choices = services.email_choices(current_user)
        form.kinds.data = [key for key, on in choices.items() if on]
    return (
        render_template(
            "notifications/settings.html",
            title="Which emails you get",
            form=form,
            errors=error_list(form),
        ),
        status,
    )
