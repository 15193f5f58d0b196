"""Supervision sessions: the schedule, the review cycle's due dates and the record."""
