"""stored team figures

Revision ID: f2c8d6a4b913
Revises: e5a9c3f17b42
Create Date: 2026-12-06 22:40:00.000000

"""
from alembic import op
import sqlalchemy as sa
import competency_app.database


# revision identifiers, used by Alembic.
revision = 'f2c8d6a4b913'
down_revision = 'e5a9c3f17b42'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'stored_team_figures',
        sa.Column('team_id', sa.Integer(), nullable=False),
        sa.Column('epoch', sa.Integer(), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('members', sa.JSON(), nullable=False),
        sa.Column('valid_from', competency_app.database.UTCDateTime(), nullable=False),
        sa.Column('valid_until', competency_app.database.UTCDateTime(), nullable=True),
        sa.Column('figures', sa.JSON(), nullable=False),
        sa.Column('people', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_stored_team_figures_team_id_team'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('team_id', name=op.f('pk_stored_team_figures')),
    )


def downgrade():
    op.drop_table('stored_team_figures')
