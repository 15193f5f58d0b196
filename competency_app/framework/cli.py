"""`flask load-framework PATH [--check]`."""

from __future__ import annotations

import getpass
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from competency_app.database import unit_of_work
from competency_app.framework.loader import FrameworkFileError, parse_framework
from competency_app.framework.services import load_framework


def read_and_parse(path: Path, max_bytes: int):
    """Parse the file at `path`; exit 2 with every problem on stderr if it is refused."""
    try:
        size = path.stat().st_size
        raw = path.read_bytes() if size <= max_bytes else b""
    except OSError as exc:
        click.echo(f"{path}: cannot read the file: {exc.strerror}", err=True)
        raise SystemExit(2) from None
    if size > max_bytes:
        click.echo(f"{path}: the file is {size:,} bytes; the limit is {max_bytes:,}", err=True)
        raise SystemExit(2)
    try:
        return parse_framework(raw, str(path), max_bytes=max_bytes)
    except FrameworkFileError as exc:
        for problem in exc.problems:
            click.echo(problem.format(exc.name), err=True)
        click.echo(f"{path}: refused; nothing was loaded.", err=True)
        raise SystemExit(2) from None


@click.command("load-framework")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--check", is_flag=True, help="Validate only; change nothing.")
@with_appcontext
def load_framework_command(path: Path, check: bool) -> None:
    """Validate a framework YAML file and load it as a new version."""
    document = read_and_parse(path, current_app.config["FRAMEWORK_MAX_BYTES"])
    skills = sum(len(e.skills) for e in document.elements())
    summary = (
        f"{len(document.core_values)} values, {len(document.elements())} elements, "
        f"{skills} skills, {len(document.elearning)} modules"
    )
    if check:
        click.echo(f"{path}: valid ({summary}).")
        return
    with unit_of_work():
        result = load_framework(document, path.name, loaded_by=f"cli:{getpass.getuser()}")
    if result.created:
        click.echo(f"Loaded {path} as framework version {result.version.number} ({summary}).")
    else:
        click.echo(
            f"{path} is identical to framework version {result.version.number}; nothing changed."
        )
