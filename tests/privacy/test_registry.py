"""No table forgotten: every table naming a person or a candidate is declared in the
personal-data registry, every such column is declared as the row's subject, the parent
row that names the subject, or someone who acted; and every declaration names real
columns."""

from __future__ import annotations

from dataclasses import replace

from competency_app.extensions import db
from competency_app.privacy.registry import BY_TABLE, CANDIDATE, DERIVED, HOLDINGS

PEOPLE = {"app_user", "candidate"}


def _references(table) -> list[tuple[str, str]]:
    return [
        (column.name, key.column.table.name)
        for column in table.columns
        for key in column.foreign_keys
    ]


def undeclared(by_table: dict) -> list[str]:
    """What the registry `by_table` leaves undeclared."""
    personal = set(PEOPLE) | set(by_table)
    problems = []
    for name, table in db.metadata.tables.items():
        references = _references(table)
        names_a_person = [(c, t) for c, t in references if t in PEOPLE]
        below_personal = [(c, t) for c, t in references if t in personal and t not in PEOPLE]
        if not names_a_person and not below_personal:
            continue
        holding = by_table.get(name)
        if holding is None:
            problems.append(f"{name}: names a person or sits below a personal table, undeclared")
            continue
        declared = {holding.subject, *holding.actors, holding.through and holding.through[0]}
        for column, _target in names_a_person:
            if column not in declared:
                problems.append(f"{name}.{column}: neither subject, parent nor actor")
    return problems


def test_every_table_naming_a_person_is_declared(app):
    problems = undeclared(BY_TABLE)
    assert not problems, "\n".join(problems)


def test_the_check_names_a_forgotten_table_and_column(app):
    without = {name: h for name, h in BY_TABLE.items() if name != "module_completion"}
    assert undeclared(without) == [
        "module_completion: names a person or sits below a personal table, undeclared"
    ]
    # a table below a personal one (self_rating below assessment) is caught too
    without = {name: h for name, h in BY_TABLE.items() if name != "self_rating"}
    assert any(p.startswith("self_rating:") for p in undeclared(without))
    # and a column naming a person that is not declared
    holding = BY_TABLE["training_assignment"]
    partial = {**BY_TABLE, "training_assignment": replace(holding, actors=())}
    assert undeclared(partial) == [
        "training_assignment.assigned_by_id: neither subject, parent nor actor"
    ]


def test_every_declaration_names_real_columns(app):
    tables = db.metadata.tables
    for holding in HOLDINGS:
        table = tables[holding.table]
        columns = set(table.columns.keys())
        named = {holding.subject, *holding.actors, *holding.hidden} - {None}
        if holding.through:
            named.add(holding.through[0])
            parent = BY_TABLE[holding.through[1]]
            assert parent.subject, f"{holding.table}: its parent names no subject"
        assert named <= columns, f"{holding.table}: no column {named - columns}"
        assert holding.about_nobody or holding.subject or holding.through, holding.table
        if holding.kind == CANDIDATE and holding.table != "candidate":
            assert dict(_references(table))[holding.subject] == "candidate", holding.table
    for name in DERIVED:
        assert name in tables
