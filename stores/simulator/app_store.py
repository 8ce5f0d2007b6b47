"""App Store Connect's submission and release rules, simulated: builds, versions, review submissions,
release requests and phased releases.

Rules:
- one review submission with an app version in progress per app and platform;
- review submissions move WAITING_FOR_REVIEW -> IN_REVIEW -> COMPLETE (the version then waits for
  the developer's release: PENDING_DEVELOPER_RELEASE) on the schedule the test sets, or by the admin
  endpoint;
- phased releases: INACTIVE until the version is released, then ACTIVE for 7 days (1, 2, 5, 10, 20,
  50, 100 %), PAUSED/ACTIVE by the developer, COMPLETE at the end or on request; other moves are
  refused with 409.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from stores.simulator.clock import SimClock
from stores.simulator.descriptions import Operation
from stores.simulator.replies import Reply, apple_error

DAY = 86400.0
PHASED_PERCENT = (1, 2, 5, 10, 20, 50, 100)
IN_PROGRESS = ("READY_FOR_REVIEW", "WAITING_FOR_REVIEW", "IN_REVIEW", "UNRESOLVED_ISSUES")
STATE_TITLE = "The request cannot be fulfilled because of the state of another resource."
ENTITY_TITLE = "The provided entity includes an attribute with an invalid value"
# appStoreState (deprecated) for each appVersionState, both reported as the real API does.
LEGACY_STATE = {
    "PREPARE_FOR_SUBMISSION": "PREPARE_FOR_SUBMISSION",
    "WAITING_FOR_REVIEW": "WAITING_FOR_REVIEW",
    "IN_REVIEW": "IN_REVIEW",
    "PENDING_DEVELOPER_RELEASE": "PENDING_DEVELOPER_RELEASE",
    "READY_FOR_DISTRIBUTION": "READY_FOR_SALE",
    "REJECTED": "REJECTED",
}


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")


@dataclass
class Build:
    id: str
    app_id: str
    version: str  # the build number
    short_version: str  # the marketing version (preReleaseVersion.version)
    platform: str
    processing_state: str
    uploaded: float


@dataclass
class Version:
    id: str
    app_id: str
    platform: str
    version_string: str
    release_type: str
    state: str = "PREPARE_FOR_SUBMISSION"
    build_id: str | None = None


@dataclass
class PhasedRelease:
    id: str
    version_id: str
    state: str = "INACTIVE"
    start: float | None = None
    paused_at: float | None = None
    total_pause: float = 0.0


@dataclass
class ReviewSubmission:
    id: str
    app_id: str
    platform: str
    state: str = "READY_FOR_REVIEW"
    version_id: str | None = None
    items: list[str] = field(default_factory=list)
    submitted: float | None = None
    state_since: float = 0.0


class AppStoreSimulator:
    def __init__(self, clock: SimClock, apps: dict[str, str]) -> None:
        self.clock = clock
        self.apps = dict(apps)  # app id -> bundle id
        self.builds: dict[str, Build] = {}
        self.versions: dict[str, Version] = {}
        self.phased: dict[str, PhasedRelease] = {}
        self.submissions: dict[str, ReviewSubmission] = {}
        self.items: dict[str, str] = {}  # item id -> version id
        self.review_after_s: float | None = None
        self.approve_after_s: float | None = None
        self._ids = itertools.count(1000)

    def _id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids)}"

    # --- what fastlane's upload and Apple's reviewers do ---

    def add_build(
        self, app_id: str, short_version: str, build_number: str, processing_state: str = "VALID"
    ) -> Build:
        build = Build(
            self._id("build"), app_id, build_number, short_version, "IOS", processing_state, self.clock.now()
        )
        self.builds[build.id] = build
        return build

    def set_review_state(self, submission_id: str, state: str) -> ReviewSubmission:
        """Move a submission: IN_REVIEW, APPROVED (COMPLETE + version awaiting release), REJECTED."""
        submission = self.submissions[submission_id]
        version = self.versions.get(submission.version_id or "")
        submission.state_since = self.clock.now()
        if state == "IN_REVIEW":
            submission.state = "IN_REVIEW"
            if version:
                version.state = "IN_REVIEW"
        elif state == "APPROVED":
            submission.state = "COMPLETE"
            if version:
                self._approved(version)
        elif state == "REJECTED":
            submission.state = "UNRESOLVED_ISSUES"
            if version:
                version.state = "REJECTED"
        else:
            raise ValueError(f"unknown review state {state!r}; use IN_REVIEW, APPROVED or REJECTED")
        return submission

    def _approved(self, version: Version) -> None:
        if version.release_type == "MANUAL":
            version.state = "PENDING_DEVELOPER_RELEASE"
        else:
            self._release(version)

    def _release(self, version: Version) -> None:
        version.state = "READY_FOR_DISTRIBUTION"
        phased = self._phased_for(version.id)
        if phased and phased.state == "INACTIVE":
            phased.state = "ACTIVE"
            phased.start = self.clock.now()

    def advance(self) -> None:
        now = self.clock.now()
        for submission in self.submissions.values():
            if (
                submission.state == "WAITING_FOR_REVIEW"
                and self.review_after_s is not None
                and now >= submission.state_since + self.review_after_s
            ):
                self.set_review_state(submission.id, "IN_REVIEW")
            if (
                submission.state == "IN_REVIEW"
                and self.approve_after_s is not None
                and now >= submission.state_since + self.approve_after_s
            ):
                self.set_review_state(submission.id, "APPROVED")
        for phased in self.phased.values():
            if phased.state == "ACTIVE" and self.phase_day(phased) > len(PHASED_PERCENT):
                phased.state = "COMPLETE"

    def phase_day(self, phased: PhasedRelease) -> int:
        if phased.start is None:
            return 0
        until = phased.paused_at if phased.state == "PAUSED" and phased.paused_at else self.clock.now()
        return 1 + int((until - phased.start - phased.total_pause) // DAY)

    # --- API ---

    def handle(self, op: Operation, query: dict[str, list[str]], body: Any) -> Reply:
        self.advance()
        handler = getattr(self, f"_op_{op.name}", None)
        if handler is None:
            raise apple_error(501, "NOT_IMPLEMENTED", "Not simulated", f"{op.name} is not simulated")
        return handler(op.path_params, {k: v[-1] for k, v in query.items()}, body)

    # builds

    def _build_json(self, build: Build) -> dict[str, Any]:
        return {
            "type": "builds",
            "id": build.id,
            "attributes": {
                "version": build.version,
                "uploadedDate": _iso(build.uploaded),
                "processingState": build.processing_state,
                "expired": False,
            },
        }

    def _op_buildsGetCollection(self, path: dict, q: dict, body: Any) -> Reply:
        def wanted(build: Build) -> bool:
            checks = [
                ("filter[app]", build.app_id),
                ("filter[version]", build.version),
                ("filter[preReleaseVersion.version]", build.short_version),
                ("filter[preReleaseVersion.platform]", build.platform),
                ("filter[processingState]", build.processing_state),
            ]
            return all(key not in q or value in q[key].split(",") for key, value in checks)

        found = [self._build_json(b) for b in self.builds.values() if wanted(b)]
        return Reply(
            200,
            {
                "data": found,
                "links": {"self": "/v1/builds"},
                "meta": {"paging": {"total": len(found), "limit": 50}},
            },
        )

    # versions

    def _version(self, version_id: str) -> Version:
        version = self.versions.get(version_id)
        if version is None:
            raise apple_error(
                404,
                "NOT_FOUND",
                "The specified resource does not exist",
                f"There is no resource of type 'appStoreVersions' with id '{version_id}'",
            )
        return version

    def _version_json(self, version: Version) -> dict[str, Any]:
        return {
            "type": "appStoreVersions",
            "id": version.id,
            "attributes": {
                "platform": version.platform,
                "versionString": version.version_string,
                "appVersionState": version.state,
                "appStoreState": LEGACY_STATE.get(version.state, version.state),
                "releaseType": version.release_type,
            },
            "relationships": {
                "build": {"data": {"type": "builds", "id": version.build_id} if version.build_id else None}
            },
        }

    def _op_appsAppStoreVersionsGetToManyRelated(self, path: dict, q: dict, body: Any) -> Reply:
        app_id = self._app(path["id"])
        found = [
            self._version_json(v)
            for v in self.versions.values()
            if v.app_id == app_id
            and (
                "filter[versionString]" not in q or v.version_string in q["filter[versionString]"].split(",")
            )
            and ("filter[platform]" not in q or v.platform in q["filter[platform]"].split(","))
        ]
        return Reply(200, {"data": found, "links": {"self": f"/v1/apps/{app_id}/appStoreVersions"}})

    def _op_appStoreVersionsGetInstance(self, path: dict, q: dict, body: Any) -> Reply:
        return Reply(200, {"data": self._version_json(self._version(path["id"])), "links": {"self": ""}})

    def _op_appStoreVersionsCreateInstance(self, path: dict, q: dict, body: Any) -> Reply:
        data = body["data"]
        app_id = self._app(data["relationships"]["app"]["data"]["id"])
        attributes = data["attributes"]
        for version in self.versions.values():
            if (
                version.app_id == app_id
                and version.platform == attributes["platform"]
                and (
                    version.version_string == attributes["versionString"]
                    or version.state != "READY_FOR_DISTRIBUTION"
                )
            ):
                raise apple_error(
                    409,
                    "ENTITY_ERROR.RELATIONSHIP.INVALID",
                    "The provided entity includes a relationship with an invalid value",
                    "You cannot create a new version of the App in the current state.",
                )
        version = Version(
            self._id("version"),
            app_id,
            attributes["platform"],
            attributes["versionString"],
            attributes.get("releaseType") or "AFTER_APPROVAL",
        )
        self.versions[version.id] = version
        return Reply(201, {"data": self._version_json(version), "links": {"self": ""}})

    def _op_appStoreVersionsBuildUpdateToOneRelationship(self, path: dict, q: dict, body: Any) -> Reply:
        version = self._version(path["id"])
        build = self.builds.get(body["data"]["id"])
        if build is None or build.app_id != version.app_id:
            raise apple_error(
                409,
                "ENTITY_ERROR.RELATIONSHIP.INVALID",
                "The provided entity includes a relationship with an invalid value",
                f"The build '{body['data']['id']}' does not belong to this app.",
            )
        if version.state not in ("PREPARE_FOR_SUBMISSION", "REJECTED", "DEVELOPER_REJECTED"):
            raise apple_error(
                409,
                "STATE_ERROR",
                STATE_TITLE,
                f"The build cannot be changed while the version is {version.state}.",
            )
        version.build_id = build.id
        return Reply(204)

    # phased releases

    def _phased_for(self, version_id: str) -> PhasedRelease | None:
        return next((p for p in self.phased.values() if p.version_id == version_id), None)

    def _phased_json(self, phased: PhasedRelease) -> dict[str, Any]:
        attributes: dict[str, Any] = {
            "phasedReleaseState": phased.state,
            "totalPauseDuration": int(phased.total_pause // DAY),
        }
        if phased.start is not None:
            attributes["startDate"] = _iso(phased.start)
            attributes["currentDayNumber"] = min(self.phase_day(phased), len(PHASED_PERCENT))
        return {"type": "appStoreVersionPhasedReleases", "id": phased.id, "attributes": attributes}

    def _op_appStoreVersionsAppStoreVersionPhasedReleaseGetToOneRelated(
        self, path: dict, q: dict, body: Any
    ) -> Reply:
        self._version(path["id"])
        phased = self._phased_for(path["id"])
        return Reply(200, {"data": self._phased_json(phased) if phased else None, "links": {"self": ""}})

    def _op_appStoreVersionPhasedReleasesCreateInstance(self, path: dict, q: dict, body: Any) -> Reply:
        version = self._version(body["data"]["relationships"]["appStoreVersion"]["data"]["id"])
        if self._phased_for(version.id):
            raise apple_error(
                409,
                "ENTITY_ERROR.RELATIONSHIP.INVALID",
                "The provided entity includes a relationship with an invalid value",
                "This version already has a phased release.",
            )
        phased = PhasedRelease(self._id("phased"), version.id)
        self.phased[phased.id] = phased
        return Reply(201, {"data": self._phased_json(phased), "links": {"self": ""}})

    def _op_appStoreVersionPhasedReleasesUpdateInstance(self, path: dict, q: dict, body: Any) -> Reply:
        phased = self.phased.get(path["id"])
        if phased is None:
            raise apple_error(
                404,
                "NOT_FOUND",
                "The specified resource does not exist",
                f"There is no resource of type 'appStoreVersionPhasedReleases' with id '{path['id']}'",
            )
        wanted = (body["data"].get("attributes") or {}).get("phasedReleaseState")
        allowed = {"ACTIVE": ("PAUSED",), "PAUSED": ("ACTIVE",), "COMPLETE": ("ACTIVE", "PAUSED")}
        if wanted is None or phased.state not in allowed.get(wanted, ()):
            raise apple_error(
                409,
                "ENTITY_ERROR.ATTRIBUTE.INVALID",
                ENTITY_TITLE,
                f"The phased release cannot be set to {wanted} when it is {phased.state}.",
                pointer="/data/attributes/phasedReleaseState",
            )
        now = self.clock.now()
        if wanted == "PAUSED":
            phased.paused_at = now
        elif phased.state == "PAUSED" and phased.paused_at is not None:
            phased.total_pause += now - phased.paused_at
            phased.paused_at = None
        phased.state = wanted
        return Reply(200, {"data": self._phased_json(phased), "links": {"self": ""}})

    def _op_appStoreVersionReleaseRequestsCreateInstance(self, path: dict, q: dict, body: Any) -> Reply:
        version = self._version(body["data"]["relationships"]["appStoreVersion"]["data"]["id"])
        if version.state != "PENDING_DEVELOPER_RELEASE":
            raise apple_error(
                409,
                "STATE_ERROR",
                STATE_TITLE,
                f"The version cannot be released while it is {version.state}; "
                "it must be PENDING_DEVELOPER_RELEASE.",
            )
        self._release(version)
        return Reply(
            201,
            {
                "data": {"type": "appStoreVersionReleaseRequests", "id": self._id("release")},
                "links": {"self": ""},
            },
        )

    # review submissions

    def _app(self, app_id: str) -> str:
        if app_id not in self.apps:
            raise apple_error(
                404,
                "NOT_FOUND",
                "The specified resource does not exist",
                f"There is no resource of type 'apps' with id '{app_id}'",
            )
        return app_id

    def _submission(self, submission_id: str) -> ReviewSubmission:
        submission = self.submissions.get(submission_id)
        if submission is None:
            raise apple_error(
                404,
                "NOT_FOUND",
                "The specified resource does not exist",
                f"There is no resource of type 'reviewSubmissions' with id '{submission_id}'",
            )
        return submission

    def _submission_json(self, submission: ReviewSubmission) -> dict[str, Any]:
        attributes: dict[str, Any] = {"platform": submission.platform, "state": submission.state}
        if submission.submitted is not None:
            attributes["submittedDate"] = _iso(submission.submitted)
        version = {"type": "appStoreVersions", "id": submission.version_id} if submission.version_id else None
        return {
            "type": "reviewSubmissions",
            "id": submission.id,
            "attributes": attributes,
            "relationships": {
                "app": {"data": {"type": "apps", "id": submission.app_id}},
                "appStoreVersionForReview": {"data": version},
                "items": {"data": [{"type": "reviewSubmissionItems", "id": i} for i in submission.items]},
            },
        }

    def _submissions_reply(self, found: list[ReviewSubmission], q: dict) -> Reply:
        body: dict[str, Any] = {"data": [self._submission_json(s) for s in found], "links": {"self": ""}}
        if "appStoreVersionForReview" in q.get("include", "").split(","):
            body["included"] = [
                self._version_json(self.versions[s.version_id]) for s in found if s.version_id
            ]
        return Reply(200, body)

    def _filter_submissions(self, app_id: str, q: dict) -> list[ReviewSubmission]:
        return [
            s
            for s in self.submissions.values()
            if s.app_id == app_id
            and ("filter[platform]" not in q or s.platform in q["filter[platform]"].split(","))
            and ("filter[state]" not in q or s.state in q["filter[state]"].split(","))
        ]

    def _op_reviewSubmissionsGetCollection(self, path: dict, q: dict, body: Any) -> Reply:
        found = [
            s for app in q["filter[app]"].split(",") for s in self._filter_submissions(self._app(app), q)
        ]
        return self._submissions_reply(found, q)

    def _op_appsReviewSubmissionsGetToManyRelated(self, path: dict, q: dict, body: Any) -> Reply:
        return self._submissions_reply(self._filter_submissions(self._app(path["id"]), q), q)

    def _op_reviewSubmissionsGetInstance(self, path: dict, q: dict, body: Any) -> Reply:
        return Reply(
            200, {"data": self._submission_json(self._submission(path["id"])), "links": {"self": ""}}
        )

    def _in_progress(self, app_id: str, platform: str, exclude: str = "") -> ReviewSubmission | None:
        return next(
            (
                s
                for s in self.submissions.values()
                if s.app_id == app_id
                and s.platform == platform
                and s.id != exclude
                and s.state in IN_PROGRESS
                and (s.version_id or s.state != "READY_FOR_REVIEW")
            ),
            None,
        )

    def _another_in_progress(self, other: ReviewSubmission) -> None:
        raise apple_error(
            409,
            "STATE_ERROR",
            STATE_TITLE,
            f"There is another reviewSubmissions with id {other.id} still in progress.",
        )

    def _op_reviewSubmissionsCreateInstance(self, path: dict, q: dict, body: Any) -> Reply:
        data = body["data"]
        app_id = self._app(data["relationships"]["app"]["data"]["id"])
        platform = (data.get("attributes") or {}).get("platform") or "IOS"
        other = self._in_progress(app_id, platform)
        if other:
            self._another_in_progress(other)
        submission = ReviewSubmission(self._id("submission"), app_id, platform, state_since=self.clock.now())
        self.submissions[submission.id] = submission
        return Reply(201, {"data": self._submission_json(submission), "links": {"self": ""}})

    def _op_reviewSubmissionItemsCreateInstance(self, path: dict, q: dict, body: Any) -> Reply:
        relationships = body["data"]["relationships"]
        submission = self._submission(relationships["reviewSubmission"]["data"]["id"])
        version_ref = relationships.get("appStoreVersion")
        if not version_ref:
            raise apple_error(
                501, "NOT_IMPLEMENTED", "Not simulated", "only appStoreVersion items are simulated"
            )
        version = self._version(version_ref["data"]["id"])
        if submission.state != "READY_FOR_REVIEW":
            raise apple_error(
                409,
                "STATE_ERROR",
                STATE_TITLE,
                f"Items cannot be added to a review submission that is {submission.state}.",
            )
        if version.build_id is None:
            raise apple_error(
                409,
                "ENTITY_ERROR.RELATIONSHIP.INVALID",
                "The provided entity includes a relationship with an invalid value",
                "The appStoreVersion has no build; attach a build before submitting it for review.",
            )
        other = self._in_progress(submission.app_id, submission.platform, exclude=submission.id)
        if other and other.version_id:
            self._another_in_progress(other)
        item_id = self._id("item")
        self.items[item_id] = version.id
        submission.items.append(item_id)
        submission.version_id = version.id
        version.state = "READY_FOR_REVIEW"
        return Reply(
            201,
            {
                "data": {
                    "type": "reviewSubmissionItems",
                    "id": item_id,
                    "attributes": {"state": "READY_FOR_REVIEW"},
                },
                "links": {"self": ""},
            },
        )

    def _op_reviewSubmissionsUpdateInstance(self, path: dict, q: dict, body: Any) -> Reply:
        submission = self._submission(path["id"])
        attributes = body["data"].get("attributes") or {}
        version = self.versions.get(submission.version_id or "")
        if attributes.get("submitted"):
            if submission.state != "READY_FOR_REVIEW":
                raise apple_error(
                    409,
                    "STATE_ERROR",
                    STATE_TITLE,
                    f"The review submission is {submission.state} and cannot be submitted again.",
                )
            if not submission.items:
                raise apple_error(
                    409, "STATE_ERROR", STATE_TITLE, "The review submission has no items to submit."
                )
            submission.state = "WAITING_FOR_REVIEW"
            submission.submitted = submission.state_since = self.clock.now()
            if version:
                version.state = "WAITING_FOR_REVIEW"
        elif attributes.get("canceled"):
            if submission.state not in (
                "WAITING_FOR_REVIEW",
                "IN_REVIEW",
                "UNRESOLVED_ISSUES",
                "READY_FOR_REVIEW",
            ):
                raise apple_error(
                    409,
                    "STATE_ERROR",
                    STATE_TITLE,
                    f"The review submission is {submission.state} and cannot be canceled.",
                )
            submission.state = "COMPLETE"
            if version:
                version.state = "PREPARE_FOR_SUBMISSION"
        return Reply(200, {"data": self._submission_json(submission), "links": {"self": ""}})
