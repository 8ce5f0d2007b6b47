"""App Store Connect through its REST API (httpx, ES256 JWTs).

The IPA reaches App Store Connect through the team's fastlane lane (`upload_to_testflight`); this
adapter finds that build, attaches it to the version, submits it for review through a
reviewSubmission, releases it after approval and drives the phased release."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from stores.app_store_auth import AppStoreKey, TokenSource
from stores.base import Candidate, ErrorCategory, ReviewState, Rollout, RolloutState, StoreError, Submission

STORE = "app_store"
BASE_URL = "https://api.appstoreconnect.apple.com"
IN_PROGRESS = ("READY_FOR_REVIEW", "WAITING_FOR_REVIEW", "IN_REVIEW", "UNRESOLVED_ISSUES")
PHASED_PERCENT = (1, 2, 5, 10, 20, 50, 100)  # Apple's fixed 7-day schedule
VERSION_REVIEW = {
    "PREPARE_FOR_SUBMISSION": ReviewState.NOT_SUBMITTED,
    "READY_FOR_REVIEW": ReviewState.NOT_SUBMITTED,
    "DEVELOPER_REJECTED": ReviewState.NOT_SUBMITTED,
    "WAITING_FOR_EXPORT_COMPLIANCE": ReviewState.NOT_SUBMITTED,
    "WAITING_FOR_REVIEW": ReviewState.WAITING_FOR_REVIEW,
    "IN_REVIEW": ReviewState.IN_REVIEW,
    "ACCEPTED": ReviewState.APPROVED,
    "PENDING_APPLE_RELEASE": ReviewState.APPROVED,
    "PENDING_DEVELOPER_RELEASE": ReviewState.APPROVED,
    "REJECTED": ReviewState.REJECTED,
    "METADATA_REJECTED": ReviewState.REJECTED,
    "INVALID_BINARY": ReviewState.REJECTED,
    "PROCESSING_FOR_DISTRIBUTION": ReviewState.RELEASED,
    "READY_FOR_DISTRIBUTION": ReviewState.RELEASED,
    "REPLACED_WITH_NEW_VERSION": ReviewState.RELEASED,
}
PHASED_STATE = {
    "INACTIVE": RolloutState.NOT_STARTED,
    "ACTIVE": RolloutState.IN_PROGRESS,
    "PAUSED": RolloutState.HALTED,
    "COMPLETE": RolloutState.COMPLETED,
}


def classify(status: int | None, code: str) -> ErrorCategory:
    """The category of an App Store Connect error from its status and `errors[].code` (pure)."""
    if status in (401, 403) or code.startswith(("NOT_AUTHORIZED", "FORBIDDEN")):
        return ErrorCategory.AUTH
    if status == 409 or code.startswith("STATE_ERROR"):
        return ErrorCategory.CONFLICT
    if status is not None and (status == 429 or status >= 500):
        return ErrorCategory.RETRYABLE
    return ErrorCategory.INVALID


class AppStoreConnect:
    """The `Store` for one App Store Connect app on one platform."""

    name = STORE

    def __init__(
        self,
        *,
        key: AppStoreKey,
        app_id: str,
        platform: str = "IOS",
        base_url: str = BASE_URL,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        timeout_s: float = 60.0,
    ) -> None:
        self.app_id = app_id
        self.platform = platform
        self._tokens = TokenSource(key, clock)
        self._http = httpx.Client(base_url=base_url, transport=transport, timeout=timeout_s)

    def close(self) -> None:
        self._http.close()

    # --- HTTP with errors mapped ---

    def _request(
        self,
        action: str,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        try:
            response = self._http.request(
                method,
                path,
                params=params,
                json=json,
                headers={"Authorization": f"Bearer {self._tokens.token()}"},
            )
        except httpx.TransportError as exc:
            raise StoreError(
                ErrorCategory.RETRYABLE,
                f"could not reach App Store Connect: {exc}",
                store=STORE,
                action=action,
            ) from None
        if response.status_code >= 400:
            raise _error(response, action)
        if response.status_code == 204 or not response.content:
            return {}
        return response.json()

    # --- reads ---

    def _find_build(self, candidate: Candidate) -> dict[str, Any]:
        builds = self._request(
            "find build",
            "GET",
            "/v1/builds",
            params={
                "filter[app]": self.app_id,
                "filter[version]": candidate.build_number,
                "filter[preReleaseVersion.version]": candidate.version,
                "filter[preReleaseVersion.platform]": self.platform,
            },
        )["data"]
        if not builds:
            raise StoreError(
                ErrorCategory.NEEDS_ACTION,
                f"build {candidate.build_number} of version {candidate.version} is not in App Store Connect; "
                "upload it with the team's fastlane lane (upload_to_testflight) first",
                store=STORE,
                action="find build",
            )
        build = builds[0]
        state = build["attributes"].get("processingState")
        if state == "PROCESSING":
            raise StoreError(
                ErrorCategory.RETRYABLE,
                f"build {candidate.build_number} is still processing",
                store=STORE,
                action="find build",
            )
        if state in ("FAILED", "INVALID"):
            raise StoreError(
                ErrorCategory.NEEDS_ACTION,
                f"build {candidate.build_number} is {state} in App Store Connect",
                store=STORE,
                action="find build",
            )
        return build

    def _find_version(self, candidate: Candidate) -> dict[str, Any] | None:
        versions = self._request(
            "find version",
            "GET",
            f"/v1/apps/{self.app_id}/appStoreVersions",
            params={
                "filter[versionString]": candidate.version,
                "filter[platform]": self.platform,
            },
        )["data"]
        return versions[0] if versions else None

    def _review_submissions(self, states: tuple[str, ...] | None) -> list[dict[str, Any]]:
        params = {
            "filter[app]": self.app_id,
            "filter[platform]": self.platform,
            "include": "appStoreVersionForReview",
        }
        if states:
            params["filter[state]"] = ",".join(states)
        return self._request("list review submissions", "GET", "/v1/reviewSubmissions", params=params)["data"]

    def find_submission(self, candidate: Candidate) -> Submission | None:
        """The review submission that carries this version with this build (sent, in review or
        complete), if any."""
        version = self._find_version(candidate)
        if version is None or not self._holds_build(version, candidate):
            return None
        for submission in self._review_submissions(None):
            if _holds(submission, version) and submission["attributes"]["state"] != "READY_FOR_REVIEW":
                return self._submission(candidate, version, submission)
        return None

    def _holds_build(self, version: dict[str, Any], candidate: Candidate) -> bool:
        attached = _related(version, "build")
        if not attached:
            return False
        params = {"filter[app]": self.app_id, "filter[id]": attached["id"]}
        builds = self._request("find build", "GET", "/v1/builds", params=params)["data"]
        return any(b["attributes"].get("version") == candidate.build_number for b in builds)

    def _submission(
        self, candidate: Candidate, version: dict[str, Any], submission: dict[str, Any]
    ) -> Submission:
        version_state = version["attributes"].get("appVersionState") or version["attributes"].get(
            "appStoreState", ""
        )
        return Submission(
            STORE,
            candidate.build_number,
            VERSION_REVIEW.get(version_state, ReviewState.NOT_SUBMITTED),
            f"{submission['attributes']['state']} / {version_state}",
            submission_id=submission["id"],
        )

    def review_state(self, candidate: Candidate) -> Submission:
        found = self.find_submission(candidate)
        if found is not None:
            # The version's state moves on after the submission completes; read it fresh.
            version = self._find_version(candidate)
            state = version["attributes"].get("appVersionState", "") if version else ""
            return Submission(
                STORE,
                candidate.build_number,
                VERSION_REVIEW.get(state, found.review),
                found.store_state,
                submission_id=found.submission_id,
            )
        return Submission(STORE, candidate.build_number, ReviewState.NOT_SUBMITTED, "absent")

    # --- submit ---

    def submit(self, candidate: Candidate, *, fraction: float | None = None) -> Submission:
        """Find the build, attach it to the version (created MANUAL if missing, so release waits for
        us), add a phased release when staged, then reviewSubmission + item + `submitted: true`."""
        build = self._find_build(candidate)
        version = self._find_version(candidate) or self._create_version(candidate)
        in_progress = self._review_submissions(IN_PROGRESS)
        attached = _related(version, "build") or {}
        for submission in in_progress:
            waiting = submission["attributes"]["state"] in ("WAITING_FOR_REVIEW", "IN_REVIEW")
            if waiting and _holds(submission, version) and attached.get("id") == build["id"]:
                return self._submission(candidate, version, submission)  # already submitted: never twice
        self._request(
            "attach build",
            "PATCH",
            f"/v1/appStoreVersions/{version['id']}/relationships/build",
            json={"data": {"type": "builds", "id": build["id"]}},
        )
        if fraction is not None and self._phased_release(version["id"]) is None:
            self._request(
                "create phased release",
                "POST",
                "/v1/appStoreVersionPhasedReleases",
                json={
                    "data": {
                        "type": "appStoreVersionPhasedReleases",
                        "relationships": {
                            "appStoreVersion": {"data": {"type": "appStoreVersions", "id": version["id"]}}
                        },
                    }
                },
            )
        ready = next((s for s in in_progress if s["attributes"]["state"] == "READY_FOR_REVIEW"), None)
        if ready is None:
            ready = self._request(
                "create review submission",
                "POST",
                "/v1/reviewSubmissions",
                json={
                    "data": {
                        "type": "reviewSubmissions",
                        "attributes": {"platform": self.platform},
                        "relationships": {"app": {"data": {"type": "apps", "id": self.app_id}}},
                    }
                },
            )["data"]
        if not _holds(ready, version):
            self._request(
                "add review item",
                "POST",
                "/v1/reviewSubmissionItems",
                json={
                    "data": {
                        "type": "reviewSubmissionItems",
                        "relationships": {
                            "reviewSubmission": {"data": {"type": "reviewSubmissions", "id": ready["id"]}},
                            "appStoreVersion": {"data": {"type": "appStoreVersions", "id": version["id"]}},
                        },
                    }
                },
            )
        submitted = self._request(
            "submit for review",
            "PATCH",
            f"/v1/reviewSubmissions/{ready['id']}",
            json={
                "data": {
                    "type": "reviewSubmissions",
                    "id": ready["id"],
                    "attributes": {"submitted": True},
                }
            },
        )["data"]
        return Submission(
            STORE,
            candidate.build_number,
            ReviewState.WAITING_FOR_REVIEW,
            submitted["attributes"]["state"],
            submission_id=submitted["id"],
        )

    def _create_version(self, candidate: Candidate) -> dict[str, Any]:
        return self._request(
            "create version",
            "POST",
            "/v1/appStoreVersions",
            json={
                "data": {
                    "type": "appStoreVersions",
                    "attributes": {
                        "platform": self.platform,
                        "versionString": candidate.version,
                        "releaseType": "MANUAL",
                    },
                    "relationships": {"app": {"data": {"type": "apps", "id": self.app_id}}},
                }
            },
        )["data"]

    # --- release and phased release ---

    def _phased_release(self, version_id: str) -> dict[str, Any] | None:
        return self._request(
            "read phased release", "GET", f"/v1/appStoreVersions/{version_id}/appStoreVersionPhasedRelease"
        ).get("data")

    def _version_or_fail(self, candidate: Candidate, action: str) -> dict[str, Any]:
        version = self._find_version(candidate)
        if version is None:
            raise StoreError(
                ErrorCategory.CONFLICT,
                f"version {candidate.version} does not exist in App Store Connect",
                store=STORE,
                action=action,
            )
        return version

    def rollout_state(self, candidate: Candidate) -> Rollout:
        version = self._version_or_fail(candidate, "read rollout")
        return self._rollout(candidate, version, self._phased_release(version["id"]))

    def _rollout(
        self, candidate: Candidate, version: dict[str, Any], phased: dict[str, Any] | None
    ) -> Rollout:
        version_state = version["attributes"].get("appVersionState", "")
        if phased is None:
            released = VERSION_REVIEW.get(version_state) == ReviewState.RELEASED
            return Rollout(
                STORE,
                candidate.build_number,
                RolloutState.COMPLETED if released else RolloutState.NOT_STARTED,
                version_state,
            )
        attributes = phased["attributes"]
        state = attributes.get("phasedReleaseState", "")
        day = attributes.get("currentDayNumber")
        fraction = PHASED_PERCENT[min(day, 7) - 1] / 100 if day and state in ("ACTIVE", "PAUSED") else None
        if state == "COMPLETE":
            fraction = None
        return Rollout(
            STORE,
            candidate.build_number,
            PHASED_STATE.get(state, RolloutState.NOT_STARTED),
            state,
            fraction,
            day,
        )

    def start_rollout(self, candidate: Candidate, *, fraction: float | None = None) -> Rollout:
        """Release the approved version (appStoreVersionReleaseRequests); a phased release then
        starts by itself on Apple's schedule (`fraction` cannot choose it). Before approval the
        store refuses (conflict); once released this only reads the state."""
        version = self._version_or_fail(candidate, "release")
        if VERSION_REVIEW.get(version["attributes"].get("appVersionState", "")) != ReviewState.RELEASED:
            self._request(
                "release",
                "POST",
                "/v1/appStoreVersionReleaseRequests",
                json={
                    "data": {
                        "type": "appStoreVersionReleaseRequests",
                        "relationships": {
                            "appStoreVersion": {"data": {"type": "appStoreVersions", "id": version["id"]}}
                        },
                    }
                },
            )
            version = self._version_or_fail(candidate, "release")
        return self._rollout(candidate, version, self._phased_release(version["id"]))

    def _set_phase(self, candidate: Candidate, state: str, action: str) -> Rollout:
        version = self._version_or_fail(candidate, action)
        phased = self._phased_release(version["id"])
        released = (
            VERSION_REVIEW.get(version["attributes"].get("appVersionState", "")) == ReviewState.RELEASED
        )
        if phased is None and state == "COMPLETE" and released:
            return self._rollout(candidate, version, None)  # released to everyone already
        if phased is None:
            raise StoreError(
                ErrorCategory.CONFLICT,
                f"version {candidate.version} has no phased release to {action}",
                store=STORE,
                action=action,
            )
        updated = self._request(
            action,
            "PATCH",
            f"/v1/appStoreVersionPhasedReleases/{phased['id']}",
            json={
                "data": {
                    "type": "appStoreVersionPhasedReleases",
                    "id": phased["id"],
                    "attributes": {"phasedReleaseState": state},
                }
            },
        )["data"]
        return self._rollout(candidate, version, updated)

    def increase_rollout(self, candidate: Candidate, *, fraction: float) -> Rollout:
        if fraction >= 1:
            return self.complete_rollout(candidate)
        raise StoreError(
            ErrorCategory.INVALID,
            "an App Store phased release advances one day at a time on Apple's schedule (1, 2, 5, 10, 20, 50, "
            "100 %); pause, resume or complete it instead",
            store=STORE,
            action="increase rollout",
        )

    def halt_rollout(self, candidate: Candidate) -> Rollout:
        return self._set_phase(candidate, "PAUSED", "pause phased release")

    def resume_rollout(self, candidate: Candidate) -> Rollout:
        return self._set_phase(candidate, "ACTIVE", "resume phased release")

    def complete_rollout(self, candidate: Candidate) -> Rollout:
        return self._set_phase(candidate, "COMPLETE", "complete phased release")


def _related(resource: dict[str, Any], name: str) -> dict[str, Any] | None:
    return ((resource.get("relationships") or {}).get(name) or {}).get("data")


def _holds(submission: dict[str, Any], version: dict[str, Any]) -> bool:
    held = _related(submission, "appStoreVersionForReview")
    return held is not None and held["id"] == version["id"]


def _error(response: httpx.Response, action: str) -> StoreError:
    code, message = "", ""
    try:
        errors = response.json().get("errors") or [{}]
        code = errors[0].get("code", "")
        message = errors[0].get("detail") or errors[0].get("title", "")
    except ValueError:
        message = response.text[:500]
    return StoreError(
        classify(response.status_code, code),
        message or f"HTTP {response.status_code}",
        store=STORE,
        action=action,
        status=response.status_code,
        code=code,
    )
