"""web deployments: what each web environment runs (history kept); projects.web_repo

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_deployments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "project_id", sa.Integer(), sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("environment", sa.String(100), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("commit", sa.String(64), nullable=True),
        sa.Column("api_version", sa.String(100), nullable=True),
        sa.Column("contracts", sa.JSON(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("deployed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_ref", sa.String(200), nullable=True),
        sa.Column("rolled_back_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rolled_back_by", sa.String(200), nullable=True),
        sa.Column("rolled_back_reason", sa.String(500), nullable=True),
    )
    op.create_index(
        "ix_web_deployments_current",
        "web_deployments",
        ["project_id", "environment", "status", "deployed_at"],
    )
    op.create_index("ix_web_deployments_source", "web_deployments", ["project_id", "source_ref"])
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("web_repo", sa.String(300), nullable=True))
        batch_op.create_index("ix_projects_web_repo", ["web_repo"])


def downgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_index("ix_projects_web_repo")
        batch_op.drop_column("web_repo")
    op.drop_index("ix_web_deployments_source", table_name="web_deployments")
    op.drop_index("ix_web_deployments_current", table_name="web_deployments")
    op.drop_table("web_deployments")
