"""jobs and notifications

Revision ID: b18e0a4c9d71
Revises: d41c7b9e2a65
Create Date: 2026-11-25 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
import competency_app.database


# revision identifiers, used by Alembic.
revision = 'b18e0a4c9d71'
down_revision = 'd41c7b9e2a65'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'job',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('params_hash', sa.String(length=64), nullable=False),
        sa.Column('active_key', sa.String(length=120), nullable=True),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('unit', sa.String(length=20), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('summary', sa.Text(), nullable=True),
        sa.Column('result_file', sa.String(length=200), nullable=True),
        sa.Column('result_name', sa.String(length=200), nullable=True),
        sa.Column('owner_id', sa.Integer(), nullable=True),
        sa.Column('created_at', competency_app.database.UTCDateTime(), nullable=False),
        sa.Column('started_at', competency_app.database.UTCDateTime(), nullable=True),
        sa.Column('finished_at', competency_app.database.UTCDateTime(), nullable=True),
        sa.Column('expires_at', competency_app.database.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['owner_id'], ['app_user.id'], name=op.f('fk_job_owner_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_job')),
        sa.UniqueConstraint('active_key', name=op.f('uq_job_active_key')),
    )
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_params_hash'), ['params_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_expires_at'), ['expires_at'], unique=False)

    op.create_table(
        'job_requester',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('requested_at', competency_app.database.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_job_requester_job_id_job'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_job_requester_user_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_job_requester')),
        sa.UniqueConstraint('job_id', 'user_id', name=op.f('uq_job_requester_job_id')),
    )
    with op.batch_alter_table('job_requester', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_requester_job_id'), ['job_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_requester_user_id'), ['user_id'], unique=False)

    op.create_table(
        'notification',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('subject', sa.String(length=80), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('link', sa.String(length=300), nullable=False),
        sa.Column('fields', sa.JSON(), nullable=False),
        sa.Column('created_at', competency_app.database.UTCDateTime(), nullable=False),
        sa.Column('email_state', sa.String(length=12), nullable=False),
        sa.Column('emailed_at', competency_app.database.UTCDateTime(), nullable=True),
        sa.Column('email_error', sa.Text(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('read_at', competency_app.database.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_notification_user_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
        sa.UniqueConstraint('user_id', 'kind', 'subject', 'due_on', name=op.f('uq_notification_user_id')),
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_email_state'), ['email_state'], unique=False)

    op.create_table(
        'notification_preference',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('email', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_notification_preference_user_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_preference')),
        sa.UniqueConstraint('user_id', 'kind', name=op.f('uq_notification_preference_user_id')),
    )
    with op.batch_alter_table('notification_preference', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_preference_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('notification_preference', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_preference_user_id'))
    op.drop_table('notification_preference')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_email_state'))
        batch_op.drop_index(batch_op.f('ix_notification_created_at'))
        batch_op.drop_index(batch_op.f('ix_notification_user_id'))
    op.drop_table('notification')
    with op.batch_alter_table('job_requester', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_requester_user_id'))
        batch_op.drop_index(batch_op.f('ix_job_requester_job_id'))
    op.drop_table('job_requester')
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_expires_at'))
        batch_op.drop_index(batch_op.f('ix_job_owner_id'))
        batch_op.drop_index(batch_op.f('ix_job_params_hash'))
        batch_op.drop_index(batch_op.f('ix_job_kind'))
    op.drop_table('job')
