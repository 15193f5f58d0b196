"""personal API tokens

Revision ID: b20e7a4c9d15
Revises: 761bc2a10383
Create Date: 2026-11-25 16:50:00

"""
from alembic import op
import sqlalchemy as sa

import competency_app.database


# revision identifiers, used by Alembic.
revision = 'b20e7a4c9d15'
down_revision = '761bc2a10383'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_token',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('created_at', competency_app.database.UTCDateTime(), nullable=False),
        sa.Column('expires_at', competency_app.database.UTCDateTime(), nullable=False),
        sa.Column('revoked_at', competency_app.database.UTCDateTime(), nullable=True),
        sa.Column('last_used_at', competency_app.database.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['owner_id'], ['app_user.id'], name=op.f('fk_api_token_owner_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash')),
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_owner_id'), ['owner_id'], unique=False)


def downgrade():
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_owner_id'))
    op.drop_table('api_token')
