"""billing: each team's customer and subscription at the payment provider, and the
provider's webhook events already applied (idempotency)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 12:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "team_billing",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("subscription_id", sa.String(length=64), nullable=True),
        sa.Column("plan", sa.String(length=32), nullable=True),
        sa.Column("interval", sa.String(length=8), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=True),
        sa.Column("current_period_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        sa.Column("trial_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("grace_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("had_trial", sa.Boolean(), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("team_id"),
        sa.UniqueConstraint("customer_id"),
    )
    with op.batch_alter_table("team_billing") as batch_op:
        batch_op.create_index(batch_op.f("ix_team_billing_subscription_id"), ["subscription_id"])
    op.create_table(
        "billing_events",
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    with op.batch_alter_table("billing_events") as batch_op:
        batch_op.create_index(batch_op.f("ix_billing_events_received_at"), ["received_at"])


def downgrade() -> None:
    with op.batch_alter_table("billing_events") as batch_op:
        batch_op.drop_index(batch_op.f("ix_billing_events_received_at"))
    op.drop_table("billing_events")
    with op.batch_alter_table("team_billing") as batch_op:
        batch_op.drop_index(batch_op.f("ix_team_billing_subscription_id"))
    op.drop_table("team_billing")
