"""supervision sessions, their repeating schedules and the modules assigned in them

Revision ID: 761bc2a10383
Revises: bdb061a43810
Create Date: 2026-11-25 16:49:49.432069

"""
from alembic import op
import sqlalchemy as sa

import competency_app.database


# revision identifiers, used by Alembic.
revision = '761bc2a10383'
down_revision = 'bdb061a43810'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('supervision_schedule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supervisee_id', sa.Integer(), nullable=False),
    sa.Column('every_weeks', sa.Integer(), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.Column('created_at', competency_app.database.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_supervision_schedule_created_by_id_app_user')),
    sa.ForeignKeyConstraint(['supervisee_id'], ['app_user.id'], name=op.f('fk_supervision_schedule_supervisee_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_schedule'))
    )
    with op.batch_alter_table('supervision_schedule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_schedule_supervisee_id'), ['supervisee_id'], unique=False)

    op.create_table('supervision_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supervisee_id', sa.Integer(), nullable=False),
    sa.Column('supervisor_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', competency_app.database.UTCDateTime(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('schedule_id', sa.Integer(), nullable=True),
    sa.Column('agreed_actions', sa.Text(), nullable=True),
    sa.Column('created_at', competency_app.database.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('cancelled_at', competency_app.database.UTCDateTime(), nullable=True),
    sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['cancelled_by_id'], ['app_user.id'], name=op.f('fk_supervision_session_cancelled_by_id_app_user')),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_supervision_session_created_by_id_app_user')),
    sa.ForeignKeyConstraint(['schedule_id'], ['supervision_schedule.id'], name=op.f('fk_supervision_session_schedule_id_supervision_schedule')),
    sa.ForeignKeyConstraint(['supervisee_id'], ['app_user.id'], name=op.f('fk_supervision_session_supervisee_id_app_user')),
    sa.ForeignKeyConstraint(['supervisor_id'], ['app_user.id'], name=op.f('fk_supervision_session_supervisor_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_session'))
    )
    with op.batch_alter_table('supervision_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_session_starts_at'), ['starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_session_supervisee_id'), ['supervisee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_session_supervisor_id'), ['supervisor_id'], unique=False)

    op.create_table('supervision_session_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['training_assignment.id'], name=op.f('fk_supervision_session_assignment_assignment_id_training_assignment')),
    sa.ForeignKeyConstraint(['session_id'], ['supervision_session.id'], name=op.f('fk_supervision_session_assignment_session_id_supervision_session')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_session_assignment')),
    sa.UniqueConstraint('assignment_id', name=op.f('uq_supervision_session_assignment_assignment_id'))
    )
    with op.batch_alter_table('supervision_session_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_session_assignment_session_id'), ['session_id'], unique=False)



def downgrade():
    with op.batch_alter_table('supervision_session_assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_session_assignment_session_id'))

    op.drop_table('supervision_session_assignment')
    with op.batch_alter_table('supervision_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_session_supervisor_id'))
        batch_op.drop_index(batch_op.f('ix_supervision_session_supervisee_id'))
        batch_op.drop_index(batch_op.f('ix_supervision_session_starts_at'))

    op.drop_table('supervision_session')
    with op.batch_alter_table('supervision_schedule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_schedule_supervisee_id'))

    op.drop_table('supervision_schedule')
