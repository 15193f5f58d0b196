"""The one response for a file people download (workbooks, charts, the links CSV)."""

from __future__ import annotations

from flask import Response

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def send_download(content: bytes, mimetype: str, filename: str | None) -> Response:
    """`content` as `mimetype`: an attachment named `filename`, or shown in the page when
    `filename` is None. Never kept in a cache (it may hold personal data)."""
    response = Response(content, mimetype=mimetype)
    if filename is not None:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def send_xlsx(content: bytes, filename: str) -> Response:
    """An .xlsx attachment named `filename`."""
    return send_download(content, XLSX, filename)
