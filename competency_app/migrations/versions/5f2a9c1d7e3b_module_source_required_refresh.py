"""e-learning module: source, required and refresh period

Revision ID: 5f2a9c1d7e3b
Revises: c733046c4a37
Create Date: 2026-11-25 14:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5f2a9c1d7e3b'
down_revision = 'c733046c4a37'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('elearning_module', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column('required', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column('refresh_months', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('elearning_module', schema=None) as batch_op:
        batch_op.drop_column('refresh_months')
        batch_op.drop_column('required')
        batch_op.drop_column('source')
