"""stored team counts

Revision ID: a4c7e2f9d815
Revises: f7a2c4e9b1d3
Create Date: 2026-12-07 20:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a4c7e2f9d815'
down_revision = 'f7a2c4e9b1d3'
branch_labels = None
depends_on = None


def upgrade():
    # Each team's coverage in counts beside its stored figures, for the regional view: a
    # small column of its own, read without the figures' JSON. Rows stored before have
    # none (the view judges them from their figures until the team's next sign-off).
    with op.batch_alter_table('stored_team_figures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('counts', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('stored_team_figures', schema=None) as batch_op:
        batch_op.drop_column('counts')
