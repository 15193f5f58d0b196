"""element short label

Revision ID: a5d7e3f1c2b9
Revises: 5f2a9c1d7e3b
Create Date: 2026-11-25 14:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a5d7e3f1c2b9'
down_revision = '5f2a9c1d7e3b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('element', schema=None) as batch_op:
        batch_op.add_column(sa.Column('short_label', sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table('element', schema=None) as batch_op:
        batch_op.drop_column('short_label')
