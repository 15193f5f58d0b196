"""Notifications: an outbox written with the event, email through SMTP, in-app list."""
