"""local courses: an organisation's own courses in the catalogue, shared with its collaborative
or not

Revision ID: f7a2c4e9b1d3
Revises: e5b1c9d4a7f3
Create Date: 2026-12-07 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import competency_app.database


# revision identifiers, used by Alembic.
revision = 'f7a2c4e9b1d3'
down_revision = 'e5b1c9d4a7f3'
branch_labels = None
depends_on = None


def upgrade():
    # A new table: no existing row changes.
    op.create_table(
        'local_course',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('url', sa.String(length=500), nullable=True),
        sa.Column('duration_minutes', sa.Integer(), nullable=True),
        sa.Column('develops', sa.JSON(), nullable=False),
        sa.Column('element_keys', sa.JSON(), nullable=False),
        sa.Column('required', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('refresh_months', sa.Integer(), nullable=True),
        sa.Column('shared', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('created_at', competency_app.database.UTCDateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['created_by_id'], ['app_user.id'], name=op.f('fk_local_course_created_by_id_app_user')
        ),
        sa.ForeignKeyConstraint(
            ['organisation_id'],
            ['organisation.id'],
            name=op.f('fk_local_course_organisation_id_organisation'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_local_course')),
    )
    with op.batch_alter_table('local_course', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_local_course_organisation_id'), ['organisation_id'], unique=False
        )


def downgrade():
    with op.batch_alter_table('local_course', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_local_course_organisation_id'))
    op.drop_table('local_course')
