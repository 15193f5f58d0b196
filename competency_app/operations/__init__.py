"""Running the service: backups and restores."""
