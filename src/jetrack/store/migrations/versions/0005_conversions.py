"""conversions: goal custom properties and display names unique per site, a site's
allowed custom properties, API key scopes (existing keys keep reading stats only)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 00:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("goals") as batch_op:
        batch_op.add_column(
            sa.Column("custom_props", sa.JSON(), nullable=False, server_default="{}")
        )
        batch_op.create_unique_constraint(
            "uq_goals_site_id_display_name", ["site_id", "display_name"]
        )
    with op.batch_alter_table("sites") as batch_op:
        batch_op.add_column(
            sa.Column("allowed_props", sa.JSON(), nullable=False, server_default="[]")
        )
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.add_column(
            sa.Column(
                "scopes", sa.String(length=200), nullable=False, server_default="stats:read:*"
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.drop_column("scopes")
    with op.batch_alter_table("sites") as batch_op:
        batch_op.drop_column("allowed_props")
    with op.batch_alter_table("goals") as batch_op:
        batch_op.drop_constraint("uq_goals_site_id_display_name", type_="unique")
        batch_op.drop_column("custom_props")
