"""dispatched_at: when the message for a queued run (plan) or queued job (execute) was last sent

Revision ID: 0011
Revises: 0010

The database is the record: a queued run or job whose message is older than the resend bound
was lost (broker restarted empty, a crash between commit and send) and is sent again by the
sweeper. Rows written before this revision have none; the sweeper falls back to the run's
`created_at` and the job's `queued_at`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("dispatched_at")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("dispatched_at")
