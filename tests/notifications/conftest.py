"""A real SMTP server on 127.0.0.1 (aiosmtpd), and the app pointed at it."""

from __future__ import annotations

import asyncio
import socket
import threading
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

import pytest
from aiosmtpd.controller import Controller

from competency_app.accounts.models import Role
from tests.factories import commit, make_team, make_user

PUBLIC_URL = "https://competency.example.nhs.uk"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        # Seconds before each message is acknowledged (kept already): a slow relay, so that
        # a sender can die mid-batch, or between a message kept and its "250".
        self.delay = 0.0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        message = message_from_bytes(envelope.content, policy=default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.messages.append(message)
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 Message accepted"

    def to(self, email: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == email]

    def subjects(self) -> list[tuple[str, str]]:
        return sorted((m["To"], m["Subject"]) for m in self.messages)

    def clear(self) -> None:
        self.messages.clear()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def team(app, framework):
    """A team with a supervisor, a keyworker, a manager and a recruiter."""
    with app.app_context():
        north = make_team("north")
        sue = make_user("sue.super", Role.SUPERVISOR, team=north)
        make_user("pat.prac", Role.PRACTITIONER, team=north, supervisor=sue)
        make_user("max.manager", Role.MANAGER, team=north)
        make_user("rae.recruit", Role.RECRUITER, team=north)
        commit()


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


@pytest.fixture
def inbox(app, smtp_server):
    """Mail goes to the test's SMTP server; links start with PUBLIC_URL."""
    inbox, port = smtp_server
    saved = {key: app.config[key] for key in ("MAIL_SERVER", "MAIL_PORT", "PUBLIC_URL")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, PUBLIC_URL=PUBLIC_URL)
    yield inbox
    app.config.update(saved)


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return part.get_content()
