"""repo URL sealed: a clone URL with credentials is kept sealed, and shown redacted

Revision ID: 0008
Revises: 0007

Rows written before this revision keep their URL in `repo_url` (a migration has no key to seal
with): every answer shows it redacted and the worker clones with it as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("repo_url_sealed", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("repo_url_sealed")
