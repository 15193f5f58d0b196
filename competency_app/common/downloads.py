"""The one response for a file people download (workbooks)."""

from __future__ import annotations

from flask import Response

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def send_xlsx(content: bytes, filename: str) -> Response:
    """An .xlsx attachment named `filename`, never kept in a cache (it holds personal data)."""
    response = Response(content, mimetype=XLSX)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
