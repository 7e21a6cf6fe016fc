"""shared links: the origins allowed to embed a link in an iframe

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 00:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("shared_links") as batch_op:
        batch_op.add_column(
            sa.Column("embed_origins", sa.String(length=2000), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("shared_links") as batch_op:
        batch_op.drop_column("embed_origins")
