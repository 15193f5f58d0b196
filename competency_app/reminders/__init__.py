"""Reminder sources across features and the send-reminders command."""
