"""Load a row named in the URL, or answer 404."""

from __future__ import annotations

from typing import TypeVar

from flask import abort

from competency_app.extensions import Model, db

M = TypeVar("M", bound=Model)


def get_or_404(model: type[M], row_id: int) -> M:
    """The `model` row with primary key `row_id`; 404 when there is none."""
    row = db.session.get(model, row_id)
    if row is None:
        abort(404)
    return row
