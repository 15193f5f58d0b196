"""the supervisor's saved judgements while validating element by element

Revision ID: d41c7b9e2a65
Revises: b19a7c3e5d21
Create Date: 2026-11-25 16:50:00

"""
from alembic import op
import sqlalchemy as sa

import competency_app.database


# revision identifiers, used by Alembic.
revision = 'd41c7b9e2a65'
down_revision = 'b19a7c3e5d21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'validation_draft',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('assessment_id', sa.Integer(), nullable=False),
        sa.Column('skill_id', sa.Integer(), nullable=False),
        sa.Column('level', sa.Integer(), nullable=True),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.Column('saved_by_id', sa.Integer(), nullable=False),
        sa.Column('saved_at', competency_app.database.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['assessment_id'], ['assessment.id'], name=op.f('fk_validation_draft_assessment_id_assessment')),
        sa.ForeignKeyConstraint(['saved_by_id'], ['app_user.id'], name=op.f('fk_validation_draft_saved_by_id_app_user')),
        sa.ForeignKeyConstraint(['skill_id'], ['skill.id'], name=op.f('fk_validation_draft_skill_id_skill')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_validation_draft')),
        sa.UniqueConstraint('assessment_id', 'skill_id', name=op.f('uq_validation_draft_assessment_id')),
    )
    with op.batch_alter_table('validation_draft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_validation_draft_assessment_id'), ['assessment_id'], unique=False)


def downgrade():
    with op.batch_alter_table('validation_draft', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_validation_draft_assessment_id'))
    op.drop_table('validation_draft')
