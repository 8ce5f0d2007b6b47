"""The submit job's side of a release: claim the release platform (`ready_to_submit` ->
`submitting`) before the team's submission lane runs, and record its outcome with the job's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.context import Context
from orchestrator.db.models import Job, Run, utcnow
from orchestrator.releases.models import Release, ReleasePlatform
from orchestrator.releases.service import System, audit
from orchestrator.releases.states import check_move

AFTER_SUBMISSION = frozenset(
    {"submitted", "in_review", "approved_by_store", "rejected_by_store", "rolling_out", "halted", "released"}
)


class SubmissionRefused(Exception):
    """The release platform is not ready to submit; the message says why."""


@dataclass(frozen=True)
class Submission:
    platform_id: int
    version: str
    platform: str
    build_number: int | None
    # A retried attempt finds the platform past `submitting`: the store has it (the ledger or a
    # read of the store settled it while the attempt was away); nothing is sent again.
    already: str | None = None

    def env(self) -> dict[str, str]:
        env = {"INSTEP_RELEASE_VERSION": self.version}
        if self.build_number is not None:
            env["INSTEP_BUILD_NUMBER"] = str(self.build_number)
        return env


def begin(ctx: Context, run_id: int, platform: str | None) -> Submission:
    with ctx.db.session() as session:
        release = session.scalar(select(Release).where(Release.run_id == run_id).with_for_update())
        if release is None:
            raise SubmissionRefused(f"run {run_id} has no release to submit")
        rows = [p for p in release.platforms if platform is None or p.platform in (platform, "all")]
        if not rows:
            raise SubmissionRefused(f"release {release.version} has no {platform} candidate")
        row = rows[0]
        if row.state == "ready_to_submit":
            check_move(f"{release.version} {row.platform}", row.state, "submitting")
            row.state, row.reason, row.updated_at = "submitting", None, utcnow()
            audit(
                session,
                release.project_id,
                release.id,
                System(),
                "submitting",
                f"{release.version} {row.platform}",
            )
        elif row.state in AFTER_SUBMISSION:
            done = Submission(row.id, release.version, row.platform, row.build_number, already=row.state)
            session.commit()
            return done
        elif row.state != "submitting":  # a retried attempt finds it submitting already
            raise SubmissionRefused(
                f"release {release.version} on {row.platform} is {row.state}, not ready to submit"
            )
        submission = Submission(row.id, release.version, row.platform, row.build_number)
        session.commit()
        return submission


def recorder(platform_id: int, status: str, reason: str | None) -> Callable[[Session, Job, Run], None]:
    """Record the submission's outcome in the transaction that finishes the submit job."""

    def record(session: Session, job: Job, run: Run) -> None:
        row = session.scalar(
            select(ReleasePlatform).where(ReleasePlatform.id == platform_id).with_for_update()
        )
        if row is None or row.state != "submitting":
            return
        new = "submitted" if status == "succeeded" else "failed"
        check_move(f"{row.release.version} {row.platform}", row.state, new)
        row.state, row.reason, row.updated_at = new, reason, utcnow()
        audit(
            session,
            row.release.project_id,
            row.release_id,
            System(),
            new,
            f"{row.release.version} {row.platform}",
            {"job": job.key, "reason": reason},
        )

    return record
