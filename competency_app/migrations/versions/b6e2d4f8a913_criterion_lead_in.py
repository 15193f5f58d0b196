"""criterion lead-in

Revision ID: b6e2d4f8a913
Revises: a7d3e9f1c524
Create Date: 2026-12-07 06:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b6e2d4f8a913'
down_revision = 'a7d3e9f1c524'
branch_labels = None
depends_on = None


def upgrade():
    # The words the person specification sets above a run of criteria; versions loaded
    # before had none (their text is kept as it was loaded).
    with op.batch_alter_table('spec_criterion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lead_in', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('spec_criterion', schema=None) as batch_op:
        batch_op.drop_column('lead_in')
