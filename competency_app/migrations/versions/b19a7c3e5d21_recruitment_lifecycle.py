"""recruitment: vacancy states, interview slots, moderation, assessment scores, lay panel
members, complete agreed scores and the appointed candidate's staff record

Revision ID: b19a7c3e5d21
Revises: b20e7a4c9d15
Create Date: 2026-11-25 16:50:00

"""
from alembic import op
import sqlalchemy as sa

import competency_app.database


# revision identifiers, used by Alembic.
revision = 'b19a7c3e5d21'
down_revision = 'b20e7a4c9d15'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('vacancy', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('state', sa.String(length=20), server_default='open', nullable=False)
        )
        batch_op.add_column(
            sa.Column('state_changed_at', competency_app.database.UTCDateTime(), nullable=True)
        )
    with op.batch_alter_table('panel_member', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('lay', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('scores_agreed_at', competency_app.database.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column('offer', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('staff_user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('start_date', sa.Date(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_candidate_staff_user_id_app_user'), 'app_user', ['staff_user_id'], ['id']
        )
    op.create_table(
        'shortlist_moderation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('candidate_id', sa.Integer(), nullable=False),
        sa.Column('criterion_key', sa.String(length=80), nullable=False),
        sa.Column('met', sa.Boolean(), nullable=True),
        sa.Column('score', sa.Integer(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('moderator_id', sa.Integer(), nullable=False),
        sa.Column('moderated_at', competency_app.database.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], name=op.f('fk_shortlist_moderation_candidate_id_candidate'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['moderator_id'], ['app_user.id'], name=op.f('fk_shortlist_moderation_moderator_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_shortlist_moderation')),
        sa.UniqueConstraint('candidate_id', 'criterion_key', name=op.f('uq_shortlist_moderation_candidate_id')),
    )
    with op.batch_alter_table('shortlist_moderation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shortlist_moderation_candidate_id'), ['candidate_id'], unique=False)
    op.create_table(
        'interview_slot',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('candidate_id', sa.Integer(), nullable=False),
        sa.Column('starts_at', competency_app.database.UTCDateTime(), nullable=False),
        sa.Column('place', sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], name=op.f('fk_interview_slot_candidate_id_candidate'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_interview_slot')),
        sa.UniqueConstraint('candidate_id', name=op.f('uq_interview_slot_candidate_id')),
    )
    op.create_table(
        'assessment_score',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('candidate_id', sa.Integer(), nullable=False),
        sa.Column('criterion_key', sa.String(length=80), nullable=False),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('assessor_id', sa.Integer(), nullable=False),
        sa.Column('scored_at', competency_app.database.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['assessor_id'], ['app_user.id'], name=op.f('fk_assessment_score_assessor_id_app_user')),
        sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], name=op.f('fk_assessment_score_candidate_id_candidate'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_score')),
        sa.UniqueConstraint('candidate_id', 'criterion_key', name=op.f('uq_assessment_score_candidate_id')),
    )
    with op.batch_alter_table('assessment_score', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_score_candidate_id'), ['candidate_id'], unique=False)


def downgrade():
    with op.batch_alter_table('assessment_score', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_score_candidate_id'))
    op.drop_table('assessment_score')
    op.drop_table('interview_slot')
    with op.batch_alter_table('shortlist_moderation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shortlist_moderation_candidate_id'))
    op.drop_table('shortlist_moderation')
    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_candidate_staff_user_id_app_user'), type_='foreignkey')
        batch_op.drop_column('start_date')
        batch_op.drop_column('staff_user_id')
        batch_op.drop_column('offer')
        batch_op.drop_column('scores_agreed_at')
    with op.batch_alter_table('panel_member', schema=None) as batch_op:
        batch_op.drop_column('lay')
    with op.batch_alter_table('vacancy', schema=None) as batch_op:
        batch_op.drop_column('state_changed_at')
        batch_op.drop_column('state')
