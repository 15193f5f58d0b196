"""The SMTP adapter: one connection for a batch, plain-text and HTML parts.

Works with an NHSmail or organisation relay (`MAIL_SERVER`, `MAIL_PORT`, STARTTLS with
`MAIL_USE_TLS` or TLS from the start with `MAIL_USE_SSL`, optional login).
"""

from __future__ import annotations

import smtplib
import ssl
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from html import escape
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Letter:
    to: str
    subject: str
    lines: list[str]  # paragraphs
    action: str  # the link's text
    url: str
    settings_url: str = ""  # the person's notification settings page (absolute)


def header_value(text: str) -> str:
    """One line for a header: control characters and line or paragraph separators (a
    vacancy title or a name with CR/LF) become spaces, runs of spaces one. A header that
    could not be written would lose the whole message, and a line break in one could add
    headers of its own."""
    cleaned = "".join(" " if unicodedata.category(ch) in {"Cc", "Zl", "Zp"} else ch for ch in text)
    return " ".join(cleaned.split())


def _domain(letter: Letter, sender: str) -> str | None:
    """The deployment's domain for Message-ID: PUBLIC_URL's host, else the sender's."""
    host = urlsplit(letter.settings_url).hostname if letter.settings_url else None
    return host or header_value(sender).rpartition("@")[2] or None


def compose(letter: Letter, sender: str) -> EmailMessage:
    """The message, plain text and HTML, with the headers that keep it out of spam folders
    and stop out-of-office replies (RFC 3834 Auto-Submitted; Exchange's suppress header)."""
    message = EmailMessage()
    message["From"] = header_value(sender)
    message["To"] = header_value(letter.to)
    message["Subject"] = header_value(letter.subject)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=_domain(letter, sender))
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    if letter.settings_url:
        message["List-Unsubscribe"] = f"<{header_value(letter.settings_url)}>"
    footer = "Keyworking competency tracker. You can choose which emails you get on your "
    footer += "notification settings page"
    text = "\n\n".join([*letter.lines, f"{letter.action}: {letter.url}"])
    text += f"\n\n{footer}" + (f": {letter.settings_url}\n" if letter.settings_url else ".\n")
    message.set_content(text)
    paragraphs = "".join(f'<p style="margin:0 0 16px">{escape(line)}</p>' for line in letter.lines)
    settings_link = (
        f'<a href="{escape(letter.settings_url)}" style="color:#005eb8">notification settings '
        "page</a>"
        if letter.settings_url
        else "notification settings page"
    )
    message.add_alternative(
        '<!doctype html><html lang="en"><body style="font-family:Arial,sans-serif;'
        'font-size:16px;color:#212b32;line-height:1.5">'
        f'<h1 style="font-size:24px;margin:0 0 16px">{escape(letter.subject)}</h1>'
        f"{paragraphs}"
        f'<p style="margin:0 0 16px"><a href="{escape(letter.url)}" style="color:#005eb8">'
        f"{escape(letter.action)}</a></p>"
        '<p style="margin:0;color:#4c6272;font-size:14px">Keyworking competency tracker. '
        f"You can choose which emails you get on your {settings_link}.</p>"
        "</body></html>",
        subtype="html",
    )
    return message


@contextmanager
def smtp_connection(config) -> Iterator[smtplib.SMTP]:
    host, port = config["MAIL_SERVER"], int(config["MAIL_PORT"])
    timeout = int(config["MAIL_TIMEOUT"])
    context = ssl.create_default_context()
    connection: smtplib.SMTP
    if config.get("MAIL_USE_SSL"):
        connection = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        connection = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if config.get("MAIL_USE_TLS"):
            connection.starttls(context=context)
        if config.get("MAIL_USERNAME"):
            connection.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        yield connection
    finally:
        try:
            connection.quit()
        except smtplib.SMTPException:
            connection.close()
