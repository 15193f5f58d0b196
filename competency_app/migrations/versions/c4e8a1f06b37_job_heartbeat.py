"""job heartbeat

Revision ID: c4e8a1f06b37
Revises: 7c3e9a1f5d28
Create Date: 2026-12-07 05:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
import competency_app.database


# revision identifiers, used by Alembic.
revision = 'c4e8a1f06b37'
down_revision = '7c3e9a1f5d28'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('heartbeat_at', competency_app.database.UTCDateTime(), nullable=True)
        )
    # A job running at the upgrade has its start as its last sign of life.
    op.execute("UPDATE job SET heartbeat_at = started_at WHERE state = 'running'")


def downgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
