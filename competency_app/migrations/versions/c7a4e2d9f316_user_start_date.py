"""user start date (coverage as at a past date counts who was a member then)

Revision ID: c7a4e2d9f316
Revises: d8f3a6c2e157
Create Date: 2026-12-07 08:30:00

Existing people get the earliest of the day their account was made and the day of their
first validated rating or assessment: they were in the team by then (an import of older
history may predate the account). Nobody's row is dropped or otherwise changed.
"""

from datetime import date, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c7a4e2d9f316"
down_revision = "d8f3a6c2e157"
branch_labels = None
depends_on = None


def _day(value) -> date | None:
    """A timestamp as read back (a datetime, or SQLite's text) as its date."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.date() if isinstance(value, datetime) else value


def upgrade():
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("start_date", sa.Date(), nullable=True))

    connection = op.get_bind()
    user = sa.table(
        "app_user",
        sa.column("id", sa.Integer),
        sa.column("created_at", sa.DateTime),
        sa.column("start_date", sa.Date),
    )
    rating = sa.table(
        "validated_rating", sa.column("person_id", sa.Integer), sa.column("validated_at")
    )
    assessment = sa.table(
        "assessment", sa.column("person_id", sa.Integer), sa.column("started_at")
    )
    earliest: dict[int, date] = {}

    def consider(person, moment) -> None:
        day = _day(moment)
        if day is not None and (person not in earliest or day < earliest[person]):
            earliest[person] = day

    # raw text on SQLite: read with text() so no type conversion is attempted
    for person, moment in connection.execute(
        sa.text("SELECT id, created_at FROM app_user")
    ):
        consider(person, moment)
    for person, moment in connection.execute(
        sa.select(rating.c.person_id, sa.func.min(rating.c.validated_at)).group_by(
            rating.c.person_id
        )
    ):
        consider(person, moment)
    for person, moment in connection.execute(
        sa.select(assessment.c.person_id, sa.func.min(assessment.c.started_at)).group_by(
            assessment.c.person_id
        )
    ):
        consider(person, moment)
    if earliest:
        connection.execute(
            user.update().where(user.c.id == sa.bindparam("person")).values(
                start_date=sa.bindparam("day")
            ),
            [{"person": person, "day": day} for person, day in earliest.items()],
        )


def downgrade():
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("start_date")
