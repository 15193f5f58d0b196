"""modules assigned to people with a due date

Revision ID: 7a3c1e5d9b20
Revises: 5e1f0c9a7b21
Create Date: 2026-11-25 17:00:00

"""
from alembic import op
import sqlalchemy as sa

import competency_app.database


# revision identifiers, used by Alembic.
revision = '7a3c1e5d9b20'
down_revision = '5e1f0c9a7b21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'training_assignment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('module_key', sa.String(length=80), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('element_key', sa.String(length=40), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('assigned_at', competency_app.database.UTCDateTime(), nullable=False),
        sa.Column('assigned_by_id', sa.Integer(), nullable=False),
        sa.Column('cancelled_at', competency_app.database.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['assigned_by_id'], ['app_user.id'], name=op.f('fk_training_assignment_assigned_by_id_app_user')),
        sa.ForeignKeyConstraint(['person_id'], ['app_user.id'], name=op.f('fk_training_assignment_person_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_training_assignment')),
    )
    with op.batch_alter_table('training_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_assignment_person_id'), ['person_id'], unique=False)


def downgrade():
    with op.batch_alter_table('training_assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_assignment_person_id'))
    op.drop_table('training_assignment')
