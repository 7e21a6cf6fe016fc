"""funnels: a site's named funnels and their ordered steps, each step one of its goals

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 00:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "funnels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_id", "name", name="uq_funnels_site_id_name"),
    )
    with op.batch_alter_table("funnels") as batch_op:
        batch_op.create_index(batch_op.f("ix_funnels_site_id"), ["site_id"], unique=False)
    op.create_table(
        "funnel_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("funnel_id", sa.Integer(), nullable=False),
        sa.Column("step_order", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["funnel_id"], ["funnels.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["goal_id"], ["goals.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("funnel_id", "step_order", name="uq_funnel_steps_funnel_id_step_order"),
        sa.UniqueConstraint("funnel_id", "goal_id", name="uq_funnel_steps_funnel_id_goal_id"),
    )
    with op.batch_alter_table("funnel_steps") as batch_op:
        batch_op.create_index(batch_op.f("ix_funnel_steps_goal_id"), ["goal_id"], unique=False)


def downgrade() -> None:
    op.drop_table("funnel_steps")
    op.drop_table("funnels")
