"""store submissions: the ledger of store actions per release platform and the store's last word

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "store_actions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "release_id", sa.Integer(), sa.ForeignKey("releases.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("store", sa.String(30), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("category", sa.String(20), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("sends", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("release_id", "platform", "action", name="uq_store_action"),
    )
    op.create_index("ix_store_actions_open", "store_actions", ["state"])
    op.create_table(
        "store_status",
        sa.Column(
            "release_platform_id",
            sa.Integer(),
            sa.ForeignKey("release_platforms.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("store", sa.String(30), nullable=False),
        sa.Column("review", sa.String(30), nullable=True),
        sa.Column("rollout", sa.String(30), nullable=True),
        sa.Column("store_state", sa.String(100), nullable=True),
        sa.Column("fraction", sa.Float(), nullable=True),
        sa.Column("day", sa.Integer(), nullable=True),
        sa.Column("fraction_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("store_status")
    op.drop_index("ix_store_actions_open", table_name="store_actions")
    op.drop_table("store_actions")
