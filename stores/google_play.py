"""Google Play through the androidpublisher v3 API (google-api-python-client).

The client is built offline from the discovery document the package ships; for the simulator its
`rootUrl` is replaced (with `api_endpoint` alone, media uploads would still go to https). Every
change is one edit: insert, change, commit with `changesInReviewBehavior=ERROR_IF_IN_REVIEW` (the
default would cancel whatever is in review)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import googleapiclient
import httplib2
from google.auth.exceptions import GoogleAuthError, RefreshError, TransportError
from google.oauth2 import service_account
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build_from_document
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaFileUpload, build_http

from stores.base import (
    Candidate,
    ErrorCategory,
    ReviewState,
    Rollout,
    RolloutState,
    StoreError,
    Submission,
    TrackRelease,
)

STORE = "google_play"
SCOPE = "https://www.googleapis.com/auth/androidpublisher"
DISCOVERY_DOCUMENT = (
    Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / "androidpublisher.v3.json"
)
UPLOAD_CHUNK_BYTES = 16 * 1024 * 1024
COMMIT_BEHAVIOR = "ERROR_IF_IN_REVIEW"

# releaseLifecycleState from applications.tracks.releases.list.
LIFECYCLE = {
    "RELEASE_LIFECYCLE_STATE_DRAFT": ReviewState.NOT_SUBMITTED,
    "RELEASE_LIFECYCLE_STATE_NOT_SENT_FOR_REVIEW": ReviewState.NOT_SUBMITTED,
    "RELEASE_LIFECYCLE_STATE_IN_REVIEW": ReviewState.IN_REVIEW,
    "RELEASE_LIFECYCLE_STATE_APPROVED_NOT_PUBLISHED": ReviewState.APPROVED,
    "RELEASE_LIFECYCLE_STATE_NOT_APPROVED": ReviewState.REJECTED,
    "RELEASE_LIFECYCLE_STATE_PUBLISHED": ReviewState.RELEASED,
}
TRACK_STATUS = {
    "draft": RolloutState.NOT_STARTED,
    "inProgress": RolloutState.IN_PROGRESS,
    "halted": RolloutState.HALTED,
    "completed": RolloutState.COMPLETED,
}
# Google's reasons and messages that say more than the HTTP status (Tramline keeps a similar list).
CONFLICT_REASONS = {"apkUpgradeVersionConflict", "apkNotificationMessageKeyUpgradeVersionConflict"}
RETRYABLE_REASONS = {"editExpired", "editDeleted", "backendError", "rateLimitExceeded", "internalError"}
NEEDS_ACTION_REASONS = {"rolloutNotPermittedOnDraftApp"}
NEEDS_ACTION_TEXTS = (
    "first release on a track cannot be staged",
    "changes cannot be sent for review automatically",
    "only releases with status draft may be created on draft app",
)
CONFLICT_TEXTS = (
    "changes are currently in review",
    "only one completed release",
    "fully released can not be staged",
)
RETRYABLE_TEXTS = ("this edit has expired", "this edit has been deleted")


def load_discovery_document(root_url: str | None = None) -> dict[str, Any]:
    """The packaged androidpublisher v3 description, pointed at `root_url` when given."""
    document = json.loads(DISCOVERY_DOCUMENT.read_text())
    if root_url:
        root = root_url.rstrip("/") + "/"
        document["rootUrl"] = root
        document["baseUrl"] = root + document["servicePath"]
        document.pop("mtlsRootUrl", None)
    return document


def classify(status: int | None, reason: str, message: str) -> ErrorCategory:
    """The category of a Play error from its HTTP status, `errors[].reason` and message (pure)."""
    text = message.lower()
    if reason in CONFLICT_REASONS or any(t in text for t in CONFLICT_TEXTS):
        return ErrorCategory.CONFLICT
    if reason in RETRYABLE_REASONS or any(t in text for t in RETRYABLE_TEXTS):
        return ErrorCategory.RETRYABLE
    if reason in NEEDS_ACTION_REASONS or any(t in text for t in NEEDS_ACTION_TEXTS):
        return ErrorCategory.NEEDS_ACTION
    if status in (401, 403):
        return ErrorCategory.AUTH
    if status is not None and (status == 429 or status >= 500):
        return ErrorCategory.RETRYABLE
    if status == 409:
        return ErrorCategory.CONFLICT
    return ErrorCategory.INVALID


def _http_error(exc: HttpError, action: str) -> StoreError:
    status = exc.resp.status if exc.resp is not None else None
    message, reason = "", ""
    try:
        error = json.loads(exc.content.decode("utf-8", "replace"))["error"]
        message = error.get("message", "")
        reason = (error.get("errors") or [{}])[0].get("reason", "")
    except (ValueError, KeyError, TypeError, AttributeError):
        message = exc.reason if hasattr(exc, "reason") else str(exc)
    return StoreError(
        classify(status, reason, message),
        message or f"HTTP {status}",
        store=STORE,
        action=action,
        status=status,
        code=reason,
    )


class GooglePlay:
    """The `Store` for one Play app (package) and track. Not thread-safe (httplib2): one per job."""

    name = STORE

    def __init__(
        self,
        *,
        service_account_info: Mapping[str, Any],
        package_name: str,
        track: str = "production",
        root_url: str | None = None,
        http: httplib2.Http | None = None,
        in_app_update_priority: int | None = None,
        timeout_s: float = 120.0,
        upload_chunk_bytes: int = UPLOAD_CHUNK_BYTES,
    ) -> None:
        self.package_name = package_name
        self.track = track
        self.in_app_update_priority = in_app_update_priority
        self.upload_chunk_bytes = upload_chunk_bytes
        try:
            credentials = service_account.Credentials.from_service_account_info(
                dict(service_account_info), scopes=[SCOPE]
            )
        except (ValueError, KeyError) as exc:
            raise StoreError(
                ErrorCategory.AUTH,
                f"the service-account JSON is not usable: {exc}",
                store=STORE,
                action="load credentials",
            ) from None
        transport = http or build_http()
        transport.timeout = timeout_s
        # 308 is "resume incomplete" in Google's resumable uploads, not a redirect.
        transport.redirect_codes = set(transport.redirect_codes) - {308}
        self._service = build_from_document(
            load_discovery_document(root_url), http=AuthorizedHttp(credentials, http=transport)
        )

    # --- calls, with errors mapped ---

    def _call(self, action: str, request: Any) -> Any:
        try:
            if hasattr(request, "next_chunk") and getattr(request, "resumable", None) is not None:
                response = None
                while response is None:
                    _, response = request.next_chunk()
                return response
            return request.execute()
        except HttpError as exc:
            raise _http_error(exc, action) from None
        except RefreshError as exc:
            message = exc.args[0] if exc.args else str(exc)
            raise StoreError(ErrorCategory.AUTH, str(message), store=STORE, action=action) from None
        except (TransportError, httplib2.HttpLib2Error, OSError) as exc:
            raise StoreError(
                ErrorCategory.RETRYABLE, f"could not reach Google Play: {exc}", store=STORE, action=action
            ) from None
        except GoogleAuthError as exc:
            raise StoreError(ErrorCategory.AUTH, str(exc), store=STORE, action=action) from None

    def _edits(self) -> Any:
        return self._service.edits()

    def _insert_edit(self) -> str:
        return self._call("edits.insert", self._edits().insert(packageName=self.package_name, body={}))["id"]

    def _get_track(self, edit_id: str) -> list[dict[str, Any]]:
        track = self._call(
            "edits.tracks.get",
            self._edits().tracks().get(packageName=self.package_name, editId=edit_id, track=self.track),
        )
        return list(track.get("releases", []))

    def _update_and_commit(self, edit_id: str, releases: list[dict[str, Any]]) -> None:
        self._call(
            "edits.tracks.update",
            self._edits()
            .tracks()
            .update(
                packageName=self.package_name,
                editId=edit_id,
                track=self.track,
                body={"track": self.track, "releases": releases},
            ),
        )
        self._call(
            "edits.commit",
            self._edits().commit(
                packageName=self.package_name, editId=edit_id, changesInReviewBehavior=COMMIT_BEHAVIOR
            ),
        )

    # --- reads for reconciliation ---

    def track_releases(self) -> list[TrackRelease]:
        """The track's releases and their version codes, read in a throwaway edit."""
        edit_id = self._insert_edit()
        try:
            releases = self._get_track(edit_id)
        finally:
            self._delete_edit(edit_id)
        return [
            TrackRelease(
                r.get("status", ""),
                tuple(r.get("versionCodes", [])),
                r.get("userFraction"),
                r.get("name", ""),
            )
            for r in releases
        ]

    def _delete_edit(self, edit_id: str) -> None:
        try:
            self._edits().delete(packageName=self.package_name, editId=edit_id).execute()
        except (HttpError, GoogleAuthError, httplib2.HttpLib2Error, OSError):
            pass  # an unused edit expires by itself; the read already succeeded or failed on its own

    def _summary(self, candidate: Candidate) -> dict[str, Any] | None:
        listing = self._call(
            "tracks.releases.list",
            self._service.applications()
            .tracks()
            .releases()
            .list(parent=f"applications/{self.package_name}/tracks/{self.track}"),
        )
        code = int(candidate.build_number)
        for summary in listing.get("releases", []):
            if any(a.get("versionCode") == code for a in summary.get("activeArtifacts", [])):
                return summary
        return None

    def find_submission(self, candidate: Candidate) -> Submission | None:
        summary = self._summary(candidate)
        if summary is None:
            return None
        state = summary.get("releaseLifecycleState", "RELEASE_LIFECYCLE_STATE_UNSPECIFIED")
        return Submission(
            STORE,
            candidate.build_number,
            LIFECYCLE.get(state, ReviewState.NOT_SUBMITTED),
            state,
            track=self.track,
        )

    def review_state(self, candidate: Candidate) -> Submission:
        return self.find_submission(candidate) or Submission(
            STORE, candidate.build_number, ReviewState.NOT_SUBMITTED, "absent", track=self.track
        )

    # --- submit ---

    def submit(self, candidate: Candidate, *, fraction: float | None = None) -> Submission:
        """edits.insert -> bundles.upload -> tracks.update (inProgress at `fraction`, or completed)
        -> commit. The track's completed release is kept; older staged releases are replaced."""
        if candidate.artifact is None or not Path(candidate.artifact).is_file():
            raise StoreError(
                ErrorCategory.INVALID,
                f"the Android App Bundle {candidate.artifact} does not exist",
                store=STORE,
                action="bundles.upload",
            )
        edit_id = self._insert_edit()
        media = MediaFileUpload(
            str(candidate.artifact),
            mimetype="application/octet-stream",
            resumable=True,
            chunksize=self.upload_chunk_bytes,
        )
        bundle = self._call(
            "edits.bundles.upload",
            self._edits().bundles().upload(packageName=self.package_name, editId=edit_id, media_body=media),
        )
        if str(bundle.get("versionCode")) != candidate.build_number:
            raise StoreError(
                ErrorCategory.INVALID,
                f"the AAB's version code is {bundle.get('versionCode')}, but the release's build number is "
                f"{candidate.build_number}; build the AAB with versionCode {candidate.build_number}",
                store=STORE,
                action="edits.bundles.upload",
            )
        release: dict[str, Any] = {
            "name": candidate.version,
            "versionCodes": [candidate.build_number],
            "status": "inProgress" if fraction is not None else "completed",
        }
        if fraction is not None:
            release["userFraction"] = _check_fraction(fraction)
        if candidate.release_notes:
            release["releaseNotes"] = [
                {"language": lang, "text": text} for lang, text in candidate.release_notes.items()
            ]
        if self.in_app_update_priority is not None:
            release["inAppUpdatePriority"] = self.in_app_update_priority
        kept = [
            r for r in self._get_track(edit_id) if r.get("status") == "completed" and fraction is not None
        ]
        self._update_and_commit(edit_id, [*kept, release])
        return Submission(
            STORE,
            candidate.build_number,
            ReviewState.WAITING_FOR_REVIEW,
            "committed",
            submission_id=edit_id,
            track=self.track,
        )

    # --- rollout: each change in a new edit ---

    def _change(self, candidate: Candidate, action: str, change: Callable[[dict[str, Any]], None]) -> Rollout:
        edit_id = self._insert_edit()
        releases = self._get_track(edit_id)
        ours = _find(releases, candidate)
        if ours is None:
            self._delete_edit(edit_id)
            raise StoreError(
                ErrorCategory.CONFLICT,
                f"version code {candidate.build_number} is not on the {self.track} track",
                store=STORE,
                action=action,
            )
        try:
            change(ours)
        except StoreError:
            self._delete_edit(edit_id)
            raise
        if ours.get("status") == "completed":
            releases = [r for r in releases if r is ours or r.get("status") != "completed"]
        self._update_and_commit(edit_id, releases)
        return _rollout(candidate, ours)

    def rollout_state(self, candidate: Candidate) -> Rollout:
        for release in self.track_releases():
            if candidate.build_number in release.version_codes:
                return Rollout(
                    STORE,
                    candidate.build_number,
                    TRACK_STATUS.get(release.status, RolloutState.NOT_STARTED),
                    release.status,
                    release.user_fraction,
                )
        return Rollout(STORE, candidate.build_number, RolloutState.NOT_STARTED, "absent")

    def start_rollout(self, candidate: Candidate, *, fraction: float | None = None) -> Rollout:
        def start(release: dict[str, Any]) -> None:
            if fraction is None:
                release["status"] = "completed"
                release.pop("userFraction", None)
            else:
                release["status"] = "inProgress"
                release["userFraction"] = _check_fraction(fraction)

        return self._change(candidate, "start rollout", start)

    def increase_rollout(self, candidate: Candidate, *, fraction: float) -> Rollout:
        if fraction >= 1:
            return self.complete_rollout(candidate)

        def increase(release: dict[str, Any]) -> None:
            current = release.get("userFraction") or 0.0
            if release.get("status") != "inProgress":
                raise StoreError(
                    ErrorCategory.CONFLICT,
                    f"the release is {release.get('status')}, not inProgress; resume it first",
                    store=STORE,
                    action="increase rollout",
                )
            if fraction <= current:
                raise StoreError(
                    ErrorCategory.INVALID,
                    f"the rollout is at {current:.0%}; a new fraction must be higher, got {fraction:.0%}",
                    store=STORE,
                    action="increase rollout",
                )
            release["userFraction"] = _check_fraction(fraction)

        return self._change(candidate, "increase rollout", increase)

    def halt_rollout(self, candidate: Candidate) -> Rollout:
        def halt(release: dict[str, Any]) -> None:
            if release.get("status") != "inProgress":
                raise StoreError(
                    ErrorCategory.CONFLICT,
                    f"only a release in progress can be halted; it is {release.get('status')}",
                    store=STORE,
                    action="halt rollout",
                )
            release["status"] = "halted"

        return self._change(candidate, "halt rollout", halt)

    def resume_rollout(self, candidate: Candidate) -> Rollout:
        def resume(release: dict[str, Any]) -> None:
            if release.get("status") != "halted":
                raise StoreError(
                    ErrorCategory.CONFLICT,
                    f"only a halted release can be resumed; it is {release.get('status')}",
                    store=STORE,
                    action="resume rollout",
                )
            release["status"] = "inProgress"  # at the fraction it had when halted

        return self._change(candidate, "resume rollout", resume)

    def complete_rollout(self, candidate: Candidate) -> Rollout:
        def complete(release: dict[str, Any]) -> None:
            release["status"] = "completed"
            release.pop("userFraction", None)

        return self._change(candidate, "complete rollout", complete)


def _find(releases: list[dict[str, Any]], candidate: Candidate) -> dict[str, Any] | None:
    return next((r for r in releases if candidate.build_number in r.get("versionCodes", [])), None)


def _rollout(candidate: Candidate, release: dict[str, Any]) -> Rollout:
    status = release.get("status", "")
    return Rollout(
        STORE,
        candidate.build_number,
        TRACK_STATUS.get(status, RolloutState.NOT_STARTED),
        status,
        release.get("userFraction"),
    )


def _check_fraction(fraction: float) -> float:
    if not 0 < fraction < 1:
        raise StoreError(
            ErrorCategory.INVALID,
            f"a staged rollout fraction must be between 0 and 1, got {fraction}",
            store=STORE,
            action="rollout",
        )
    return fraction
