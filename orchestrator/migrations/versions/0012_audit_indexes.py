"""audit indexes: the audit log reads a project's or a person's events newest first

Revision ID: 0012
Revises: 0011

The dashboard's audit page and GET /api/audit filter the trail by project and by person and page
by id; without these, each page scans the whole trail.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_release_audit_project", "release_audit", ["project_id", "id"])
    op.create_index("ix_release_audit_person", "release_audit", ["person", "id"])


def downgrade() -> None:
    op.drop_index("ix_release_audit_person", table_name="release_audit")
    op.drop_index("ix_release_audit_project", table_name="release_audit")
