"""instance facts: the instance's first account is recorded durably (admin by erasure)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 00:35:00
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    facts = op.create_table(
        "instance_facts",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    # An instance that has (or had: an erasure request outlives its account) an admin is
    # past its first account; one with only the demo login (never an admin) is not.
    bind = op.get_bind()
    had_admin = bind.execute(sa.text("SELECT count(*) FROM users WHERE is_admin")).scalar()
    erased = bind.execute(sa.text("SELECT count(*) FROM erasure_requests")).scalar()
    if had_admin or erased:
        op.bulk_insert(facts, [{"name": "first_account", "recorded_at": datetime.now(UTC)}])


def downgrade() -> None:
    op.drop_table("instance_facts")
