"""pre-employment checks of a conditional offer

Revision ID: c3f9a2d7e184
Revises: a3c5e7f9b2d4
Create Date: 2026-12-07 08:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import competency_app.database


# revision identifiers, used by Alembic.
revision = 'c3f9a2d7e184'
down_revision = 'a3c5e7f9b2d4'
branch_labels = None
depends_on = None


def upgrade():
    # One row per check whose outcome HR or a recruiter recorded. A candidate already at
    # "offered" has no rows, so each of their checks is outstanding; an appointed candidate
    # stays appointed (nothing here touches `candidate`).
    op.create_table(
        'pre_employment_check',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('candidate_id', sa.Integer(), nullable=False),
        sa.Column('check_key', sa.String(length=80), nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('checked_on', sa.Date(), nullable=False),
        sa.Column('waiver_reason', sa.Text(), nullable=True),
        sa.Column('recorded_by_id', sa.Integer(), nullable=False),
        sa.Column('recorded_at', competency_app.database.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], name=op.f('fk_pre_employment_check_candidate_id_candidate'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['app_user.id'], name=op.f('fk_pre_employment_check_recorded_by_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pre_employment_check')),
        sa.UniqueConstraint('candidate_id', 'check_key', name=op.f('uq_pre_employment_check_candidate_id')),
    )
    with op.batch_alter_table('pre_employment_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pre_employment_check_candidate_id'), ['candidate_id'], unique=False)


def downgrade():
    with op.batch_alter_table('pre_employment_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pre_employment_check_candidate_id'))
    op.drop_table('pre_employment_check')
