"""`flask backup FILE` (SQLite online backup) and the row counts a restore is checked by."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from competency_app.extensions import db


def row_counts() -> dict[str, int]:
    """Rows in every application table (what a restore must reproduce)."""
    return {
        table.name: db.session.execute(select(func.count()).select_from(table)).scalar_one()
        for table in db.metadata.sorted_tables
    }


def backup_sqlite(destination: Path) -> None:
    """A consistent copy of the live SQLite database, taken while it is in use."""
    source_path = db.engine.url.database
    assert source_path is not None  # a SQLite URL always names its file
    # Personal data and password hashes: the copy is readable by its owner only (0600),
    # created so from the start (never briefly world-readable); SQLite's journal files
    # take the same permissions.
    descriptor = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(descriptor)
    os.chmod(destination, 0o600)  # whatever the umask
    source = sqlite3.connect(source_path)
    target = sqlite3.connect(destination)
    try:
        with target:
            source.backup(target)
    finally:
        target.close()
        source.close()


@click.command("backup")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@with_appcontext
def backup_command(path: Path) -> None:
    """Back up the SQLite database to PATH (for PostgreSQL use pg_dump: see the README)."""
    if db.engine.dialect.name != "sqlite":
        click.echo(
            "Error: this database is PostgreSQL: back it up with pg_dump "
            "(README, 'Backup and restore').",
            err=True,
        )
        raise SystemExit(2)
    if path.exists():
        click.echo(f"Error: {path} exists; choose a new file name.", err=True)
        raise SystemExit(2)
    try:
        backup_sqlite(path)
    except (sqlite3.Error, OSError) as error:
        path.unlink(missing_ok=True)
        click.echo(f"Error: backup to {path} failed: {error}", err=True)
        raise SystemExit(2) from None
    counts = row_counts()
    click.echo(
        f"Backed up {current_app.config['SQLALCHEMY_DATABASE_URI']} to {path} "
        f"({sum(counts.values()):,} rows in {len(counts)} tables)."
    )
