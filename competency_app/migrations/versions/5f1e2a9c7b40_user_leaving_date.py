"""user leaving date (coverage forecast)

Revision ID: 5f1e2a9c7b40
Revises: a5d7e3f1c2b9
Create Date: 2026-11-25 14:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5f1e2a9c7b40"
down_revision = "a5d7e3f1c2b9"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("leaving_date", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("leaving_date")
