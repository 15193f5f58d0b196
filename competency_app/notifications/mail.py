"""The SMTP adapter: one connection for a batch, plain-text and HTML parts.

Works with an NHSmail or organisation relay (`MAIL_SERVER`, `MAIL_PORT`, STARTTLS with
`MAIL_USE_TLS` or TLS from the start with `MAIL_USE_SSL`, optional login).
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from html import escape


@dataclass(frozen=True)
class Letter:
    to: str
    subject: str
    lines: list[str]  # paragraphs
    action: str  # the link's text
    url: str


def compose(letter: Letter, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = letter.to
    message["Subject"] = letter.subject
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    text = "\n\n".join([*letter.lines, f"{letter.action}: {letter.url}"])
    text += "\n\nKeyworking competency tracker. You can choose which emails you get on the "
    text += "Notifications page.\n"
    message.set_content(text)
    paragraphs = "".join(f'<p style="margin:0 0 16px">{escape(line)}</p>' for line in letter.lines)
    message.add_alternative(
        '<!doctype html><html lang="en"><body style="font-family:Arial,sans-serif;'
        'font-size:16px;color:#212b32;line-height:1.5">'
        f'<h1 style="font-size:24px;margin:0 0 16px">{escape(letter.subject)}</h1>'
        f"{paragraphs}"
        f'<p style="margin:0 0 16px"><a href="{escape(letter.url)}" style="color:#005eb8">'
        f"{escape(letter.action)}</a></p>"
        '<p style="margin:0;color:#4c6272;font-size:14px">Keyworking competency tracker. '
        "You can choose which emails you get on the Notifications page.</p>"
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
