"""The supervision record as a PDF, drawn by WeasyPrint from the record's own HTML.

Drawn offline: the template carries its stylesheet inline, and the fetcher allows no
protocol at all, so no image, font, stylesheet or anything on a network is ever loaded.
"""

from __future__ import annotations

from typing import Any


def offline_fetcher() -> Any:
    """A WeasyPrint URL fetcher that refuses every URL (ValueError)."""
    # A large library, loaded only when someone downloads a record.
    import weasyprint  # noqa: PLC0415 - heavy import paid on first PDF only

    return weasyprint.URLFetcher(allowed_protocols=())


def pdf_from_html(html: str) -> bytes:
    """A4 PDF bytes for a self-contained HTML page."""
    import weasyprint  # noqa: PLC0415 - heavy import paid on first PDF only

    return weasyprint.HTML(string=html, url_fetcher=offline_fetcher()).write_pdf()
