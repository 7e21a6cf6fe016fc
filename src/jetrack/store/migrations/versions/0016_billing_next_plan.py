"""billing plan switch: the plan a downgrade waits to switch to at the renewal

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("team_billing") as batch_op:
        batch_op.add_column(sa.Column("next_plan", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("team_billing") as batch_op:
        batch_op.drop_column("next_plan")
