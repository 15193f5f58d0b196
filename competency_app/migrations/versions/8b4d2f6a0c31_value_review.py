"""the supervisor's review of each core-value reflection

Revision ID: 8b4d2f6a0c31
Revises: 7a3c1e5d9b20
Create Date: 2026-11-25 17:05:00

"""
from alembic import op
import sqlalchemy as sa

import competency_app.database


# revision identifiers, used by Alembic.
revision = '8b4d2f6a0c31'
down_revision = '7a3c1e5d9b20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'value_review',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('assessment_id', sa.Integer(), nullable=False),
        sa.Column('value_id', sa.Integer(), nullable=False),
        sa.Column('outcome', sa.Enum('EVIDENCED', 'DISCUSS', name='valuereviewoutcome', native_enum=False, length=20), nullable=False),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.Column('reviewed_by_id', sa.Integer(), nullable=False),
        sa.Column('reviewed_at', competency_app.database.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['assessment_id'], ['assessment.id'], name=op.f('fk_value_review_assessment_id_assessment')),
        sa.ForeignKeyConstraint(['reviewed_by_id'], ['app_user.id'], name=op.f('fk_value_review_reviewed_by_id_app_user')),
        sa.ForeignKeyConstraint(['value_id'], ['core_value.id'], name=op.f('fk_value_review_value_id_core_value')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_value_review')),
        sa.UniqueConstraint('assessment_id', 'value_id', name=op.f('uq_value_review_assessment_id')),
    )
    with op.batch_alter_table('value_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_value_review_assessment_id'), ['assessment_id'], unique=False)


def downgrade():
    with op.batch_alter_table('value_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_value_review_assessment_id'))
    op.drop_table('value_review')
