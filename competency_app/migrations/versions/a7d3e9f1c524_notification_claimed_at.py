"""notification claimed at

Revision ID: a7d3e9f1c524
Revises: c4e8a1f06b37
Create Date: 2026-12-07 04:55:00.000000

"""
from alembic import op
import sqlalchemy as sa
import competency_app.database


# revision identifiers, used by Alembic.
revision = 'a7d3e9f1c524'
down_revision = 'c4e8a1f06b37'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('claimed_at', competency_app.database.UTCDateTime(), nullable=True)
        )


def downgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('claimed_at')
