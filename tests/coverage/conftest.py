"""The demo organisation, as a manager meets it."""

from __future__ import annotations

import pytest

from competency_app.extensions import db
from competency_app.ui.demo import create_demo_organisation

DEMO_PASSWORD = "demo password for tests"
MANAGER = "morgan.reid@demo.nhs.uk"


@pytest.fixture
def demo(app, framework):
    with app.app_context():
        create_demo_organisation(DEMO_PASSWORD)
        db.session.commit()
        db.session.remove()
    return "north-keyworkers"
