"""one-time set-your-password links

Revision ID: 5e1f0c9a7b21
Revises: 5f1e2a9c7b40
Create Date: 2026-11-25 14:10:00

"""
from alembic import op
import sqlalchemy as sa

import competency_app.database


# revision identifiers, used by Alembic.
revision = '5e1f0c9a7b21'
down_revision = '5f1e2a9c7b40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'password_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', competency_app.database.UTCDateTime(), nullable=False),
        sa.Column('expires_at', competency_app.database.UTCDateTime(), nullable=False),
        sa.Column('used_at', competency_app.database.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_password_link_user_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_password_link')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_password_link_token_hash')),
    )
    with op.batch_alter_table('password_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_link_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('password_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_password_link_user_id'))
    op.drop_table('password_link')
