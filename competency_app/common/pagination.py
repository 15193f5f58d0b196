"""Pagination of a SELECT, with the parameters the NHS.UK pagination macro wants."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request, url_for
from sqlalchemy import Select, func, select

from competency_app.extensions import db
from competency_app.routing import parse_id


@dataclass
class Page:
    items: list
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first_index(self) -> int:
        return 0 if not self.total else (self.number - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.number * self.per_page)

    def _url(self, number: int) -> str:
        assert request.endpoint is not None  # a page is paginated only on a matched route
        args = {**(request.view_args or {}), **request.args.to_dict(), "page": number}
        return url_for(request.endpoint, **args)

    def macro_params(self) -> dict:
        """Parameters for `pagination(...)` (previous / next links with page labels)."""
        params: dict = {}
        if self.number > 1:
            params["previousUrl"] = self._url(self.number - 1)
            params["previousPage"] = f"Page {self.number - 1} of {self.pages}"
        if self.number < self.pages:
            params["nextUrl"] = self._url(self.number + 1)
            params["nextPage"] = f"Page {self.number + 1} of {self.pages}"
        return params


def paginate(statement: Select, per_page: int = 25) -> Page:
    """Run `statement` for the page named by ?page=N (out-of-range pages clamp)."""
    raw = request.args.get("page", "1")
    number = parse_id(raw) or 1
    total = db.session.execute(
        select(func.count()).select_from(statement.order_by(None).subquery())
    ).scalar_one()
    last = max(1, -(-total // per_page))
    number = min(number, last)
    items = list(db.session.scalars(statement.limit(per_page).offset((number - 1) * per_page)))
    return Page(items=items, number=number, per_page=per_page, total=total)


def paginate_list(items: list, per_page: int = 25) -> Page:
    """The page named by ?page=N of a list already worked out (out-of-range pages clamp)."""
    number = parse_id(request.args.get("page", "1")) or 1
    number = min(number, max(1, -(-len(items) // per_page)))
    start = (number - 1) * per_page
    return Page(
        items=items[start : start + per_page], number=number, per_page=per_page, total=len(items)
    )
