"""Google Play's publishing rules, simulated: apps, tracks, edits, bundles, review.

Error texts are Google's own as seen in public reports (sources in docs/stores.md); the JSON shape is
Google's error format. Rules:
- an edit expires `edit_ttl_s` after insert; committing any edit deletes every other open edit;
- a version code can be uploaded once per app (`apkUpgradeVersionConflict`);
- the first release on a track cannot be staged; a track holds at most one completed release;
- a commit with new version codes sends them to review; `ERROR_IF_IN_REVIEW` refuses to commit while
  a review is pending (the default would cancel it, which the simulator records).
"""

from __future__ import annotations

import copy
import hashlib
import io
import itertools
import os
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from stores.simulator.clock import SimClock
from stores.simulator.descriptions import Operation
from stores.simulator.replies import Refusal, Reply, google_error

VERSION_CODE_USED = "APK specifies a version code that has already been used."
EDIT_EXPIRED = "This edit has expired, please create a new Edit."
EDIT_DELETED = "This Edit has been deleted."
FIRST_RELEASE_STAGED = "The first release on a track cannot be staged."
ONE_COMPLETED_RELEASE = "Only one completed release is allowed."
CHANGES_IN_REVIEW = (
    "Changes are currently in review and the edit was not committed because changesInReviewBehavior "
    "is ERROR_IF_IN_REVIEW."
)
MANIFEST = "base/manifest/AndroidManifest.xml"


def make_test_bundle(version_code: int, version_name: str = "1.0.0", *, padding: int = 0) -> bytes:
    """A zip laid out like an AAB whose manifest carries the version code in plain text (real AABs
    encode the manifest as protobuf; the simulator reads this plain form only); `padding` adds that
    many incompressible bytes, for multi-chunk uploads."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            MANIFEST,
            f'<manifest android:versionCode="{version_code}" android:versionName="{version_name}"/>',
        )
        archive.writestr("BundleConfig.pb", b"")
        if padding:
            archive.writestr("base/dex/classes.dex", os.urandom(padding))
    return buffer.getvalue()


def bundle_version_code(data: bytes) -> int | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            manifest = archive.read(MANIFEST).decode("utf-8", "replace")
    except (zipfile.BadZipFile, KeyError):
        return None
    match = re.search(r'versionCode="([0-9]+)"', manifest)
    return int(match.group(1)) if match else None


@dataclass
class PlayEdit:
    id: str
    package: str
    created: float
    expires: float
    base_commit: int
    tracks: dict[str, list[dict[str, Any]]]
    uploaded: list[int] = field(default_factory=list)
    state: str = "open"  # open | committed | deleted


@dataclass
class PlayApp:
    package: str
    tracks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Review and publishing state per version code tuple: lifecycle, review start time.
    lifecycle: dict[tuple[str, ...], dict[str, Any]] = field(default_factory=dict)
    used_version_codes: set[int] = field(default_factory=set)
    commits: int = 0
    cancelled_reviews: int = 0


@dataclass
class ResumableUpload:
    package: str
    edit_id: str
    total: int
    data: bytearray = field(default_factory=bytearray)


class PlaySimulator:
    def __init__(self, clock: SimClock, packages: list[str], *, edit_ttl_s: float = 3600.0) -> None:
        self.clock = clock
        self.edit_ttl_s = edit_ttl_s
        self.apps = {package: PlayApp(package) for package in packages}
        self.edits: dict[str, PlayEdit] = {}
        self.uploads: dict[str, ResumableUpload] = {}
        self.approve_after_s: float | None = None
        self._ids = itertools.count(14120985321562939957)

    # --- review ---

    def advance_reviews(self) -> None:
        if self.approve_after_s is None:
            return
        for app in self.apps.values():
            for state in app.lifecycle.values():
                if (
                    state["state"] == "IN_REVIEW"
                    and self.clock.now() >= state["since"] + self.approve_after_s
                ):
                    state["state"] = "PUBLISHED"

    def decide_review(self, package: str, decision: str) -> int:
        """Approve (publish) or reject every release of `package` in review; returns how many."""
        app = self._app(package)
        changed = 0
        for state in app.lifecycle.values():
            if state["state"] == "IN_REVIEW":
                state["state"] = "PUBLISHED" if decision == "approve" else "NOT_APPROVED"
                changed += 1
        return changed

    def commit_elsewhere(self, package: str) -> None:
        """Someone committed another edit (the Play Console or another tool): open edits die."""
        self._app(package).commits += 1

    def expire_edits(self, package: str) -> None:
        for edit in self.edits.values():
            if edit.package == package and edit.state == "open":
                edit.expires = self.clock.now() - 1

    # --- API ---

    def handle(
        self, op: Operation, query: dict[str, list[str]], body: Any, raw: bytes, base_url: str
    ) -> Reply:
        self.advance_reviews()
        name = op.name.removeprefix("androidpublisher.")
        params = op.path_params
        if name == "applications.tracks.releases.list":
            match = re.fullmatch(r"applications/([^/]+)/tracks/([^/]+)", params["parent"])
            assert match  # the description's pattern was checked already
            return self._releases_list(match.group(1), match.group(2))
        app = self._app(params["packageName"])
        if name == "edits.insert":
            return self._insert(app)
        edit = self._edit(app, params["editId"])
        if name == "edits.get":
            return Reply(200, self._edit_json(edit))
        if name == "edits.delete":
            edit.state = "deleted"
            return Reply(204)
        self._check_open(app, edit)
        if name == "edits.bundles.upload":
            return self._upload(app, edit, query, raw, base_url)
        if name == "edits.tracks.get":
            return Reply(200, self._track_json(edit, params["track"]))
        if name == "edits.tracks.list":
            return Reply(
                200,
                {
                    "kind": "androidpublisher#tracksListResponse",
                    "tracks": [self._track_json(edit, t) for t in sorted(edit.tracks)],
                },
            )
        if name in ("edits.tracks.update", "edits.tracks.patch"):
            return self._update_track(app, edit, params["track"], body)
        if name == "edits.validate":
            return Reply(200, self._edit_json(edit))
        if name == "edits.commit":
            return self._commit(app, edit, query)
        raise google_error(501, f"{op.name} is not simulated", reason="notImplemented")

    def continue_upload(self, upload_id: str, content_range: str, chunk: bytes) -> Reply:
        """One chunk of a resumable upload (`Content-Range: bytes FIRST-LAST/TOTAL`, or
        `bytes */TOTAL` to ask how much arrived); 308 with `Range` until the last byte."""
        upload = self.uploads.get(upload_id)
        if upload is None:
            raise google_error(404, "No such upload session.", reason="notFound")
        match = re.fullmatch(r"bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)", content_range.strip())
        if match is None:
            raise google_error(400, f"Invalid Content-Range header: {content_range!r}.")
        first, last, total = match.groups()
        if total != "*":
            upload.total = int(total)
        if first is not None:
            if int(first) != len(upload.data) or int(last) - int(first) + 1 != len(chunk):
                raise google_error(
                    400,
                    f"Content-Range {content_range!r} does not continue the upload at byte {len(upload.data)}.",
                )
            upload.data += chunk
        if upload.total < 0 or len(upload.data) < upload.total:
            if not upload.data:
                return Reply(308)
            return Reply(308, None, {"Range": f"bytes=0-{len(upload.data) - 1}"})
        del self.uploads[upload_id]
        app = self._app(upload.package)
        edit = self._edit(app, upload.edit_id)
        self._check_open(app, edit)
        return self._store_bundle(app, edit, bytes(upload.data))

    def _app(self, package: str) -> PlayApp:
        app = self.apps.get(package)
        if app is None:
            raise google_error(404, f"Package not found: {package}.", reason="applicationNotFound")
        return app

    def _edit(self, app: PlayApp, edit_id: str) -> PlayEdit:
        edit = self.edits.get(edit_id)
        if edit is None or edit.package != app.package:
            raise google_error(404, "Edit not found.", reason="editNotFound", domain="androidpublisher")
        return edit

    def _check_open(self, app: PlayApp, edit: PlayEdit) -> None:
        if edit.state == "open" and app.commits != edit.base_commit:
            edit.state = "deleted"
        if edit.state != "open":
            raise google_error(410, EDIT_DELETED, reason="editDeleted", domain="androidpublisher")
        if self.clock.now() >= edit.expires:
            raise google_error(400, EDIT_EXPIRED, reason="editExpired", status="FAILED_PRECONDITION")

    def _edit_json(self, edit: PlayEdit) -> dict[str, Any]:
        return {"id": edit.id, "expiryTimeSeconds": str(int(edit.expires))}

    def _insert(self, app: PlayApp) -> Reply:
        now = self.clock.now()
        edit = PlayEdit(
            id=str(next(self._ids)),
            package=app.package,
            created=now,
            expires=now + self.edit_ttl_s,
            base_commit=app.commits,
            tracks=copy.deepcopy(app.tracks),
        )
        self.edits[edit.id] = edit
        return Reply(200, self._edit_json(edit))

    def _upload(
        self, app: PlayApp, edit: PlayEdit, query: dict[str, list[str]], raw: bytes, base_url: str
    ) -> Reply:
        upload_type = query["uploadType"][0]
        if upload_type == "resumable":
            upload_id = hashlib.sha1(f"{edit.id}:{len(self.uploads)}:{self.clock.now()}".encode()).hexdigest()
            self.uploads[upload_id] = ResumableUpload(app.package, edit.id, total=-1)
            location = (
                f"{base_url}/upload/androidpublisher/v3/applications/{app.package}/edits/{edit.id}/bundles"
                f"?uploadType=resumable&upload_id={upload_id}"
            )
            return Reply(200, None, {"Location": location})
        if upload_type == "multipart":
            raise google_error(501, "multipart bundle uploads are not simulated", reason="notImplemented")
        return self._store_bundle(app, edit, raw)

    def _store_bundle(self, app: PlayApp, edit: PlayEdit, data: bytes) -> Reply:
        version_code = bundle_version_code(data)
        if version_code is None:
            raise google_error(400, "The Android App Bundle was invalid.", reason="bundleInvalid")
        if version_code in app.used_version_codes or version_code in edit.uploaded:
            raise google_error(
                403, VERSION_CODE_USED, reason="apkUpgradeVersionConflict", domain="androidpublisher"
            )
        edit.uploaded.append(version_code)
        return Reply(
            200,
            {
                "versionCode": version_code,
                "sha1": hashlib.sha1(data).hexdigest(),
                "sha256": hashlib.sha256(data).hexdigest(),
            },
        )

    def _track_json(self, edit: PlayEdit, track: str) -> dict[str, Any]:
        return {"track": track, "releases": copy.deepcopy(edit.tracks.get(track, []))}

    def _update_track(self, app: PlayApp, edit: PlayEdit, track: str, body: dict[str, Any]) -> Reply:
        if body.get("track", track) != track:
            raise google_error(
                400, f"Track name in the body ({body['track']}) differs from the URL ({track})."
            )
        releases = body.get("releases", [])
        known = app.used_version_codes | set(edit.uploaded)
        completed = 0
        for release in releases:
            status = release.get("status", "statusUnspecified")
            fraction = release.get("userFraction")
            for code in release.get("versionCodes", []):
                if int(code) not in known:
                    raise google_error(
                        403, f"Version code {code} has not been uploaded.", reason="apkNotFound"
                    )
            if fraction is not None:
                if status not in ("inProgress", "halted"):
                    raise google_error(
                        400, 'userFraction can only be set when status is "inProgress" or "halted".'
                    )
                if not 0 < fraction < 1:
                    raise google_error(
                        400, f"userFraction must be between 0 and 1 (exclusive), got {fraction}."
                    )
            elif status in ("inProgress", "halted"):
                raise google_error(400, f"A release with status {status} needs a userFraction.")
            if status in ("inProgress", "halted") and not any(
                r.get("status") == "completed" for r in app.tracks.get(track, [])
            ):
                raise google_error(400, FIRST_RELEASE_STAGED)
            completed += status == "completed"
        if completed > 1:
            raise google_error(400, ONE_COMPLETED_RELEASE)
        edit.tracks[track] = copy.deepcopy(releases)
        return Reply(200, self._track_json(edit, track))

    def _in_review(self, app: PlayApp) -> bool:
        return any(state["state"] == "IN_REVIEW" for state in app.lifecycle.values())

    def _commit(self, app: PlayApp, edit: PlayEdit, query: dict[str, list[str]]) -> Reply:
        behavior = (query.get("changesInReviewBehavior") or ["CANCEL_IN_REVIEW_AND_SUBMIT"])[0]
        if self._in_review(app):
            if behavior == "ERROR_IF_IN_REVIEW":
                raise google_error(400, CHANGES_IN_REVIEW, status="FAILED_PRECONDITION")
            app.cancelled_reviews += 1  # what the default does: visible to the tests, never wanted
            for state in app.lifecycle.values():
                if state["state"] == "IN_REVIEW":
                    state["state"] = "DRAFT"
        new_codes = set(edit.uploaded)
        app.tracks = edit.tracks
        app.used_version_codes |= new_codes
        app.commits += 1
        edit.state = "committed"  # every other open edit of the app now fails with editDeleted
        for releases in app.tracks.values():
            for release in releases:
                codes = tuple(release.get("versionCodes", []))
                if codes not in app.lifecycle:
                    sent = any(int(c) in new_codes for c in codes) and release.get("status") != "draft"
                    app.lifecycle[codes] = {
                        "state": "IN_REVIEW" if sent else "DRAFT",
                        "since": self.clock.now(),
                    }
                elif release.get("status") != "draft" and app.lifecycle[codes]["state"] == "DRAFT":
                    app.lifecycle[codes] = {"state": "IN_REVIEW", "since": self.clock.now()}
        return Reply(200, self._edit_json(edit))

    def _releases_list(self, package: str, track: str) -> Reply:
        app = self._app(package)
        summaries = []
        for release in app.tracks.get(track, []):
            codes = tuple(release.get("versionCodes", []))
            state = app.lifecycle.get(codes, {"state": "DRAFT"})["state"]
            summaries.append(
                {
                    "releaseName": release.get("name", ""),
                    "track": track,
                    "releaseLifecycleState": f"RELEASE_LIFECYCLE_STATE_{state}",
                    "activeArtifacts": [{"versionCode": int(c)} for c in codes],
                }
            )
        return Reply(200, {"releases": summaries})


__all__ = ["PlaySimulator", "Refusal", "bundle_version_code", "make_test_bundle"]
