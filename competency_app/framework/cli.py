"""`flask load-framework PATH [--check]` (a YAML file or a CASE 1.1 package) and
`flask export-framework [--format yaml|case] [--version N] [--output PATH]`."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

import click
import yaml
from flask import current_app
from flask.cli import with_appcontext

from competency_app.database import unit_of_work
from competency_app.framework.case import from_case, looks_like_case, to_case
from competency_app.framework.loader import FrameworkFileError, parse_framework
from competency_app.framework.services import (
    current_version,
    document_of,
    load_framework,
    version_by_number,
)


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
        if looks_like_case(raw):  # a CASE 1.1 package (JSON), mapped to the YAML model
            return from_case(raw, str(path))
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
    """Validate a framework file (YAML, or a CASE 1.1 JSON package) and load it as a new
    version."""
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
        effects = result.effects
        if effects.get("validations_flagged"):
            click.echo(
                f"Reworded skills {', '.join(effects['reworded_skills'])}: "
                f"{effects['validations_flagged']} validations of the earlier wording flagged; "
                f"{effects['validations_stopped']} no longer count (revalidate)."
            )
    else:
        click.echo(
            f"{path} is identical to framework version {result.version.number}; nothing changed."
        )


@click.command("export-framework")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["yaml", "case"]),
    default="yaml",
    show_default=True,
    help="yaml: the framework file; case: a 1EdTech CASE 1.1 package (JSON).",
)
@click.option("--version", "number", type=int, help="The version number (default: the current).")
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write here instead of to standard output.",
)
@with_appcontext
def export_framework_command(output_format: str, number: int | None, output: Path | None) -> None:
    """Write a loaded framework version as YAML or as a CASE 1.1 package."""
    version = current_version() if number is None else version_by_number(number)
    if version is None:
        click.echo("No such framework version: load one with load-framework first.", err=True)
        raise SystemExit(2)
    document = document_of(version)
    if output_format == "case":
        text = json.dumps(to_case(document, version.loaded_at), indent=2, ensure_ascii=False)
    else:
        text = yaml.safe_dump(
            document.model_dump(mode="json"), sort_keys=False, allow_unicode=True, width=100
        )
    if output is None:
        sys.stdout.write(text + ("" if text.endswith("\n") else "\n"))
        return
    output.write_text(text + "\n", encoding="utf-8")
    click.echo(f"Wrote framework version {version.number} to {output} ({output_format}).")
