"""team training epoch

Revision ID: e5a9c3f17b42
Revises: b18e0a4c9d71
Create Date: 2026-12-06 22:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5a9c3f17b42'
down_revision = 'b18e0a4c9d71'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('training_epoch', sa.Integer(), server_default='0', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_column('training_epoch')
