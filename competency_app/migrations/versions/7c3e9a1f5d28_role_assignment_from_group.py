"""role assignment from group: which roles the identity provider's groups gave

Revision ID: 7c3e9a1f5d28
Revises: f2c8d6a4b913
Create Date: 2026-12-07 05:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "7c3e9a1f5d28"
down_revision = "f2c8d6a4b913"
branch_labels = None
depends_on = None


audit = sa.table(
    "audit_event",
    sa.column("id", sa.Integer),
    sa.column("action", sa.String),
    sa.column("actor_label", sa.String),
    sa.column("target", sa.String),
    sa.column("detail", sa.JSON),
)
assignment = sa.table(
    "role_assignment",
    sa.column("user_id", sa.Integer),
    sa.column("team_id", sa.Integer),
    sa.column("role", sa.String),
    sa.column("from_group", sa.Boolean),
)
person = sa.table("app_user", sa.column("id", sa.Integer), sa.column("email", sa.String))
team = sa.table("team", sa.column("id", sa.Integer), sa.column("slug", sa.String))


def upgrade():
    with op.batch_alter_table("role_assignment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("from_group", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    mark_roles_the_groups_gave()


def mark_roles_the_groups_gave():
    """Roles the group mapping gave before this revision are found in the audit log: a role
    (`role@team`) whose latest grant was a sign-in's ("sso") is the groups'; one granted or
    moved by anyone after that is given by hand, and so is every other role."""
    bind = op.get_bind()
    by_groups: dict[tuple[str, str], bool] = {}
    events = bind.execute(
        sa.select(audit.c.action, audit.c.actor_label, audit.c.target, audit.c.detail)
        .where(audit.c.action.in_(["roles_changed", "team_changed"]))
        .order_by(audit.c.id)
    )
    for action, actor, target, detail in events:
        if not isinstance(detail, dict):
            continue
        old, new = set(detail.get("old") or []), set(detail.get("new") or [])
        if action == "team_changed":  # a roster import moved them: its roles are by hand
            for key in [k for k in by_groups if k[0] == target]:
                if key[1].partition("@")[2] in new - old:
                    by_groups[key] = False
            continue
        for grant in new - old:
            by_groups[(target, grant)] = actor == "sso"
        for grant in old - new:
            by_groups.pop((target, grant), None)
    for (email, grant), from_groups in sorted(by_groups.items()):
        role, _, slug = grant.partition("@")
        if not from_groups:
            continue
        bind.execute(
            assignment.update()
            .where(
                assignment.c.user_id
                == sa.select(person.c.id).where(person.c.email == email).scalar_subquery(),
                assignment.c.team_id
                == sa.select(team.c.id).where(team.c.slug == slug).scalar_subquery(),
                assignment.c.role == role.upper(),  # stored by the enum member's name
            )
            .values(from_group=True)
        )


def downgrade():
    with op.batch_alter_table("role_assignment", schema=None) as batch_op:
        batch_op.drop_column("from_group")
