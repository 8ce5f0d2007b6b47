"""releases: releases, release platforms, approvals, gate evaluations, audit events, build numbers

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "releases",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "project_id", sa.Integer(), sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("state", sa.String(30), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("pushed_by", sa.String(200), nullable=True),
        sa.Column("created_at", _TZ, nullable=False),
        sa.UniqueConstraint("project_id", "version", name="uq_release_version"),
        sa.UniqueConstraint("run_id", name="uq_release_run"),
    )
    op.create_index("ix_releases_project", "releases", ["project_id", "id"])
    op.create_table(
        "release_platforms",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "release_id", sa.Integer(), sa.ForeignKey("releases.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("state", sa.String(30), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("build_number", sa.Integer(), nullable=True),
        sa.Column("candidate", sa.JSON(), nullable=False),
        sa.Column("soak_started_at", _TZ, nullable=True),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.UniqueConstraint("release_id", "platform", name="uq_release_platform"),
    )
    op.create_table(
        "release_approvals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "release_id", sa.Integer(), sa.ForeignKey("releases.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("role", sa.String(30), nullable=False),
        sa.Column("person", sa.String(200), nullable=False),
        sa.Column("via", sa.String(20), nullable=False),
        sa.Column("decision", sa.String(20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("override", sa.Boolean(), nullable=False),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("at", _TZ, nullable=False),
    )
    op.create_index("ix_release_approvals_release", "release_approvals", ["release_id", "id"])
    op.create_table(
        "gate_evaluations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "release_id", sa.Integer(), sa.ForeignKey("releases.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("checklist", sa.JSON(), nullable=False),
        sa.Column("at", _TZ, nullable=False),
    )
    op.create_index("ix_gate_evaluations_release", "gate_evaluations", ["release_id", "platform", "id"])
    op.create_table(
        "release_audit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "project_id", sa.Integer(), sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "release_id", sa.Integer(), sa.ForeignKey("releases.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column("person", sa.String(200), nullable=False),
        sa.Column("role", sa.String(30), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("at", _TZ, nullable=False),
    )
    op.create_index("ix_release_audit_release", "release_audit", ["release_id", "id"])
    op.create_table(
        "build_numbers",
        sa.Column(
            "project_id", sa.Integer(), sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "platform"),
    )


def downgrade() -> None:
    op.drop_table("build_numbers")
    op.drop_index("ix_release_audit_release", "release_audit")
    op.drop_table("release_audit")
    op.drop_index("ix_gate_evaluations_release", "gate_evaluations")
    op.drop_table("gate_evaluations")
    op.drop_index("ix_release_approvals_release", "release_approvals")
    op.drop_table("release_approvals")
    op.drop_table("release_platforms")
    op.drop_index("ix_releases_project", "releases")
    op.drop_table("releases")
