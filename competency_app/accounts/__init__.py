"""Users, organisations, teams, roles, sign-in, permissions and the audit log."""
