"""collaboratives of organisations; each audit event in one organisation's log

Revision ID: e5b1c9d4a7f3
Revises: c3f9a2d7e184
Create Date: 2026-12-07 11:40:00.000000

"""
import re

from alembic import op
import sqlalchemy as sa

import competency_app.database


# revision identifiers, used by Alembic.
revision = 'e5b1c9d4a7f3'
down_revision = 'c3f9a2d7e184'
branch_labels = None
depends_on = None


def _slug(name: str, taken: set[str], row_id: int) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", (name or "").lower()).strip("-")[:50] or "organisation"
    if slug in taken:
        slug = f"{slug}-{row_id}"
    taken.add(slug)
    return slug


def upgrade():
    op.create_table(
        'collaborative',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('slug', sa.String(length=60), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('created_at', competency_app.database.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_collaborative')),
        sa.UniqueConstraint('slug', name=op.f('uq_collaborative_slug')),
    )
    # Added nullable, filled, then made required: every organisation of a one-organisation
    # installation joins one collaborative, and nothing else in any row changes.
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('collaborative_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('slug', sa.String(length=60), nullable=True))
        batch_op.add_column(
            sa.Column('email_domains', sa.String(length=500), server_default='', nullable=False)
        )
        batch_op.add_column(
            sa.Column('created_at', competency_app.database.UTCDateTime(), nullable=True)
        )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))

    connection = op.get_bind()
    now = sa.func.current_timestamp()
    organisations = connection.execute(
        sa.text("SELECT id, name FROM organisation ORDER BY id")
    ).all()
    if organisations:
        # An empty database gets its first collaborative when its first organisation is made.
        collaborative = sa.table(
            'collaborative',
            sa.column('id', sa.Integer),
            sa.column('slug', sa.String),
            sa.column('name', sa.String),
            sa.column('created_at', competency_app.database.UTCDateTime()),
        )
        connection.execute(
            collaborative.insert().values(
                slug='keyworking-collaborative', name='Keyworking collaborative', created_at=now
            )
        )
        collaborative_id = connection.execute(
            sa.text("SELECT MIN(id) FROM collaborative")
        ).scalar()
        taken: set[str] = set()
        for row_id, name in organisations:
            connection.execute(
                sa.text(
                    "UPDATE organisation SET collaborative_id = :c, slug = :s, "
                    "created_at = CURRENT_TIMESTAMP WHERE id = :i"
                ),
                {"c": collaborative_id, "s": _slug(name, taken, row_id), "i": row_id},
            )
        # Every event so far was the one organisation's (the first, when there are several).
        connection.execute(
            sa.text("UPDATE audit_event SET organisation_id = :o"), {"o": organisations[0][0]}
        )

    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.alter_column('collaborative_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('slug', existing_type=sa.String(length=60), nullable=False)
        batch_op.alter_column(
            'created_at', existing_type=competency_app.database.UTCDateTime(), nullable=False
        )
        batch_op.create_index(
            batch_op.f('ix_organisation_collaborative_id'), ['collaborative_id'], unique=False
        )
        batch_op.create_unique_constraint(batch_op.f('uq_organisation_slug'), ['slug'])
        batch_op.create_foreign_key(
            batch_op.f('fk_organisation_collaborative_id_collaborative'),
            'collaborative',
            ['collaborative_id'],
            ['id'],
        )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_audit_event_organisation_id'), ['organisation_id'], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_audit_event_organisation_id_organisation'),
            'organisation',
            ['organisation_id'],
            ['id'],
        )


def downgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_audit_event_organisation_id_organisation'), type_='foreignkey'
        )
        batch_op.drop_index(batch_op.f('ix_audit_event_organisation_id'))
        batch_op.drop_column('organisation_id')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_organisation_collaborative_id_collaborative'), type_='foreignkey'
        )
        batch_op.drop_constraint(batch_op.f('uq_organisation_slug'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_organisation_collaborative_id'))
        batch_op.drop_column('created_at')
        batch_op.drop_column('email_domains')
        batch_op.drop_column('slug')
        batch_op.drop_column('collaborative_id')
    op.drop_table('collaborative')
