"""WSGI entry point: `gunicorn wsgi:app` (or `gunicorn "competency_app:create_app()"`)."""

from competency_app import create_app

app = create_app()
