"""skill revalidate mark

Revision ID: d8f3a6c2e157
Revises: b6e2d4f8a913
Create Date: 2026-12-07 08:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd8f3a6c2e157'
down_revision = 'b6e2d4f8a913'
branch_labels = None
depends_on = None


def upgrade():
    # A version that rewords a skill and asks for its earlier validations to be validated
    # again; every version loaded before asked for nothing of the kind.
    with op.batch_alter_table('skill', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('revalidate', sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table('skill', schema=None) as batch_op:
        batch_op.drop_column('revalidate')
