"""supervision: notes per discussion prompt, and peer and group sessions

Revision ID: a3c5e7f9b2d4
Revises: c7a4e2d9f316
Create Date: 2026-12-07 08:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

import competency_app.database


# revision identifiers, used by Alembic.
revision = 'a3c5e7f9b2d4'
down_revision = 'c7a4e2d9f316'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'supervision_group',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('created_at', competency_app.database.UTCDateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_supervision_group_created_by_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_group')),
    )
    # every session booked before was one-to-one
    with op.batch_alter_table('supervision_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), server_default='one_to_one', nullable=False))
        batch_op.add_column(sa.Column('group_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('led_by_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_supervision_session_group_id'), ['group_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_supervision_session_group_id_supervision_group'), 'supervision_group', ['group_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_supervision_session_led_by_id_app_user'), 'app_user', ['led_by_id'], ['id'])
    op.create_table(
        'supervision_prompt_note',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('prompt_id', sa.String(length=100), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('updated_at', competency_app.database.UTCDateTime(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['supervision_session.id'], name=op.f('fk_supervision_prompt_note_session_id_supervision_session')),
        sa.ForeignKeyConstraint(['updated_by_id'], ['app_user.id'], name=op.f('fk_supervision_prompt_note_updated_by_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_prompt_note')),
        sa.UniqueConstraint('session_id', 'prompt_id', name=op.f('uq_supervision_prompt_note_session_id')),
    )
    with op.batch_alter_table('supervision_prompt_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_prompt_note_session_id'), ['session_id'], unique=False)


def downgrade():
    with op.batch_alter_table('supervision_prompt_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_prompt_note_session_id'))
    op.drop_table('supervision_prompt_note')
    with op.batch_alter_table('supervision_session', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_supervision_session_led_by_id_app_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_supervision_session_group_id_supervision_group'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_supervision_session_group_id'))
        batch_op.drop_column('led_by_id')
        batch_op.drop_column('group_id')
        batch_op.drop_column('kind')
    op.drop_table('supervision_group')
