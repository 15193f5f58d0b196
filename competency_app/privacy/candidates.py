"""A candidate's copy of their data: what the product holds about one application, as
machine-readable JSON and a readable page in one zip archive. A candidate has no account:
HR of the organisation hosting the vacancy asks for it on their behalf (their subject
access request).

What goes in is what `registry.HOLDINGS` declares of kind CANDIDATE: the application (the
`candidate` row) and every row about it (naming it by its `subject` column: the registry's
test holds every candidate table to that), so a table declared there goes into the copy
with no change here. Around them: the vacancy applied for, the criteria and checks the
rows name by key (in their words), the outcome as the product records it (the offer, the
vacancy's stage, the shortlisting and the appointable rule's verdict), and the audit log's
events about the application. People who acted appear by name only; no other candidate's rows.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from flask import render_template
from sqlalchemy import Table, select

from competency_app.accounts.audit import AuditAction
from competency_app.clock import utcnow
from competency_app.common.dates import uk_date, uk_datetime
from competency_app.extensions import db
from competency_app.privacy.copies import AUDIT, names_by_address, names_of, shown, zipped
from competency_app.privacy.registry import (
    BY_TABLE,
    CANDIDATE,
    CANDIDATE_TABLE,
    HOLDINGS,
    Holding,
)
from competency_app.recruitment import checks, services
from competency_app.recruitment.models import Candidate, Vacancy

FORMAT = 1
AUDIT_SECTION = "Audit log"
AUDIT_PURPOSE = "What was done with the application, by whom and when, as the audit log holds it."
OFFERS = {
    None: "No offer made",
    "offered": "Offer made",
    "withdrawn": "Offer withdrawn",
    "appointed": "Appointed",
}


def candidate_holdings() -> list[Holding]:
    """The holdings that go in a candidate's copy: the application and the rows about it."""
    return [h for h in HOLDINGS if h.kind == CANDIDATE]


def refusal(vacancy: Vacancy) -> str | None:
    """Why no copy of this vacancy's candidates' data can be made; None when it can."""
    if vacancy.purged_at is not None:
        return (
            f"The candidates' data for “{vacancy.title}” was purged on "
            f"{uk_date(vacancy.purged_at)}, after the retention period: the product no longer "
            "holds any of it, so there is nothing to copy. Say so in your answer to the request."
        )
    return None


def _table(name: str) -> Table:
    return db.metadata.tables[name]


def _about(holding: Holding, candidate_id: int):
    """The WHERE clause of `holding`'s rows about the application `candidate_id`."""
    table = _table(holding.table)
    if holding.table == CANDIDATE_TABLE:
        return table.c.id == candidate_id
    return table.c[holding.subject or ""] == candidate_id


def _rows(table: Table, clause) -> list[dict]:
    statement = select(table).where(clause).order_by(*table.primary_key.columns)
    return [dict(row._mapping) for row in db.session.execute(statement)]


def _audit_events(candidate: Candidate) -> list[dict]:
    """The audit events about the application: recruitment records each one in the log of
    the organisation hosting the vacancy with the candidate's id in its detail (and their
    reference, never their name, as its target; an offer's move of the vacancy names the
    vacancy)."""
    table = _table(AUDIT)
    return _rows(
        table,
        (table.c.organisation_id == candidate.vacancy.team.organisation_id)
        & (table.c.detail["candidate"].as_integer() == candidate.id),
    )


def _shown_as(holding: Holding) -> Holding:
    """The holding as the copy shows it: the application's `staff_user_id` (the member of
    staff the candidate became when appointed) by name, as someone who acted is."""
    if holding.table == CANDIDATE_TABLE and holding.subject:
        return replace(holding, actors=(*holding.actors, holding.subject))
    return holding


def _readable(value: Any) -> str:
    """A value as the readable page shows it: UK dates, yes or no, nothing for none."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return uk_datetime(value)
    if isinstance(value, date):
        return uk_date(value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dict):
        return "; ".join(f"{key.replace('_', ' ')}: {_readable(v)}" for key, v in value.items())
    if isinstance(value, list):
        return ", ".join(_readable(v) for v in value)
    return str(value)


def _label(action: str) -> str:
    """An audit action as the administrators' log names it."""
    try:
        return AuditAction.coerce(action).label
    except ValueError:
        return action


def _outcome(candidate: Candidate) -> dict:
    """Where the application stands, as the product records and rules it."""
    vacancy = candidate.vacancy
    shortlisting = next(
        (r for r in services.shortlist_results(vacancy) if r.candidate.id == candidate.id), None
    )
    outcome: dict[str, Any] = {
        "offer": OFFERS.get(candidate.offer, candidate.offer),
        "vacancy_stage": vacancy.state_label,
        "shortlisting": shortlisting.status if shortlisting else None,
        "scores_agreed": candidate.scores_agreed_at is not None,
    }
    if candidate.scores_agreed_at is not None:
        verdict = services.appointable(
            services.interview_criteria(vacancy),
            services.agreed_scores(candidate),
            services.scoring_of(vacancy).appointable_rule,
            services.task_scores(candidate),
        )
        outcome["appointable"] = verdict.appointable
        outcome["not_appointable_because"] = [str(reason) for reason in verdict.reasons]
    return outcome


def _vacancy(vacancy: Vacancy) -> dict:
    return {
        "id": vacancy.id,
        "title": vacancy.title,
        "team": vacancy.team.name,
        "organisation": vacancy.team.organisation.name,
        "closing_date": vacancy.closing_date.isoformat(),
        "stage": vacancy.state_label,
        "panel": [
            {"name": member.user.name, "role": member.role, "lay": member.lay}
            for member in vacancy.panel
        ],
    }


def collect(candidate_id: int) -> tuple[dict, dict]:
    """Everything the product holds about the application: the data (for data.json) and
    its readable form (for record.html: the same, with UK dates)."""
    candidate = db.session.get(Candidate, candidate_id)
    if candidate is None:
        raise LookupError(candidate_id)
    vacancy = candidate.vacancy
    found: list[tuple[Holding, list[dict]]] = [
        (_shown_as(holding), _rows(_table(holding.table), _about(holding, candidate.id)))
        for holding in candidate_holdings()
    ]
    audit = BY_TABLE[AUDIT]
    found.append((audit, _audit_events(candidate)))
    names = names_of(found)
    by_address = names_by_address(found, candidate.email)
    sections: dict[str, dict[str, dict]] = {}
    readable: dict[str, dict[str, dict]] = {}
    for holding, rows in found:
        section = AUDIT_SECTION if holding is audit else holding.section
        purpose = AUDIT_PURPOSE if holding is audit else holding.purpose
        out = [shown(holding, row, names, None, by_address) for row in rows]
        sections.setdefault(section, {})[holding.table] = {"purpose": purpose, "rows": out}
        # the same rows for people to read: dates from the row itself, as UK dates; an
        # audit event's action by its label
        pages = [
            {
                key: _readable(row[key] if isinstance(row.get(key), date) else value)
                for key, value in item.items()
            }
            for item, row in zip(out, rows, strict=True)
        ]
        if holding is audit:
            for item in pages:
                item["action"] = _label(item["action"])
        readable.setdefault(section, {})[holding.table] = {"purpose": purpose, "rows": pages}
    outcome = _outcome(candidate)
    data: dict[str, Any] = {
        "format": FORMAT,
        "generated_at": utcnow().isoformat(),
        "candidate": {
            "id": candidate.id,
            "reference": candidate.reference,
            "name": candidate.name,
            "email": candidate.email,
        },
        "organisation": vacancy.team.organisation.name,
        "vacancy": _vacancy(vacancy),
        "outcome": outcome,
        "criteria": {c.key: c.full_text for c in services.criteria_of(vacancy)},
        "checks": {check.id: check.label for check in checks.checks_for(vacancy)},
        "sections": sections,
    }
    page = {
        "sections": readable,
        "closing_date": uk_date(vacancy.closing_date),
        "generated_at": uk_datetime(utcnow()),
        "outcome": {key: _readable(value) for key, value in outcome.items()},
    }
    return data, page


def archive(candidate_id: int) -> tuple[bytes, int]:
    """The zip archive (data.json and record.html) and the number of rows in it."""
    data, readable = collect(candidate_id)
    rows = sum(len(t["rows"]) for tables in data["sections"].values() for t in tables.values())
    page = render_template("privacy/candidate_record.html", data=data, readable=readable, rows=rows)
    return zipped(data, page), rows
