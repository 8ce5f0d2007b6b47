"""The simulator's HTTP face: store APIs checked against their official descriptions, a request log,
and admin endpoints under /_sim for tests and `make demo`.

Every store request is checked before anything else happens; a request the description does not
allow is answered 400 (404 for an unknown path) in the store's own error format and recorded with
its problems, so a test reading `GET /_sim/requests?invalid=1` sees it.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from stores.simulator.app_store import AppStoreSimulator
from stores.simulator.auth import KeyRing, new_app_store_key, new_service_account, public_pem
from stores.simulator.clock import SimClock
from stores.simulator.descriptions import (
    DEFAULT_ASC_SCHEMAS,
    AppStoreDescription,
    Checked,
    DescriptionMissing,
    shared_app_store_description,
    shared_play_description,
)
from stores.simulator.play import PlaySimulator
from stores.simulator.replies import Refusal, Reply, apple_error, google_error

log = logging.getLogger(__name__)

DEFAULT_PACKAGE = "dev.instep.sample"
DEFAULT_APP_ID = "6444000001"
DEFAULT_ISSUER = "57246542-96fe-1a63-e053-0824d011072a"


@dataclass
class SimulatorConfig:
    play_packages: list[str] = field(default_factory=lambda: [DEFAULT_PACKAGE])
    app_store_apps: dict[str, str] = field(default_factory=lambda: {DEFAULT_APP_ID: DEFAULT_PACKAGE})
    # None, or a missing file, leaves App Store Connect off (its requests get 503 with the reason).
    asc_schemas: Path | None = DEFAULT_ASC_SCHEMAS
    edit_ttl_s: float = 3600.0
    max_log: int = 10_000


@dataclass
class LoggedRequest:
    seq: int
    time: float
    store: str
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    operation: str
    status: int = 0
    problems: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {**self.__dict__, "valid": not self.problems}


class StoreSimulator:
    """Both stores' state, their descriptions, the key ring, the request log and one-shot faults."""

    def __init__(self, config: SimulatorConfig, clock: SimClock | None = None) -> None:
        self.config = config
        self.clock = clock or SimClock()
        self.play_description = shared_play_description()
        self.asc_description: AppStoreDescription | None = None
        self.asc_missing = "App Store Connect is off in this simulator (no schemas configured)"
        if config.asc_schemas is not None:
            try:
                self.asc_description = shared_app_store_description(config.asc_schemas)
            except DescriptionMissing as exc:
                self.asc_missing = str(exc)
        self.play = PlaySimulator(self.clock, config.play_packages, edit_ttl_s=config.edit_ttl_s)
        self.app_store = AppStoreSimulator(self.clock, config.app_store_apps)
        self.keys = KeyRing(self.clock)
        self.requests: list[LoggedRequest] = []
        self._seq = 0
        self.faults: list[dict[str, Any]] = []
        self._service_account = new_service_account(
            "instep-release@instep-simulator.iam.gserviceaccount.com", ""
        )
        self.keys.register_google(
            self._service_account["private_key_id"],
            self._service_account["client_email"],
            public_pem(self._service_account["private_key"]),
        )
        self._asc_key = new_app_store_key(DEFAULT_ISSUER)
        self.keys.register_apple(
            self._asc_key["key_id"], DEFAULT_ISSUER, public_pem(self._asc_key["private_key"])
        )

    def credentials(self, base_url: str) -> dict[str, Any]:
        return {
            "google_play": {**self._service_account, "token_uri": f"{base_url}/token"},
            "app_store": dict(self._asc_key),
            "play_packages": self.config.play_packages,
            "app_store_apps": self.config.app_store_apps,
        }

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def record(self, entry: LoggedRequest) -> None:
        self.requests.append(entry)
        del self.requests[: -self.config.max_log]

    def take_fault(self, operation: str) -> dict[str, Any] | None:
        for fault in self.faults:
            if fault["operation"] == operation:
                self.faults.remove(fault)
                return fault
        return None


def _reply(reply: Reply) -> Response:
    if reply.body is None:
        return Response(status_code=reply.status, headers=reply.headers)
    return JSONResponse(reply.body, status_code=reply.status, headers=reply.headers)


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def create_app(sim: StoreSimulator) -> Starlette:
    async def store_request(request: Request) -> Response:
        path = request.url.path
        store = "app_store" if path.startswith(("/v1/", "/v2/", "/v3/")) else "google_play"
        query = parse_qs(request.url.query, keep_blank_values=True)
        raw = await request.body()
        content_type = request.headers.get("content-type", "")
        body: Any = None
        parse_problem = ""
        if raw and content_type.startswith("application/json"):
            try:
                body = json.loads(raw)
            except ValueError as exc:
                parse_problem = f"request body is not JSON: {exc}"
        elif raw and not path.startswith("/upload/"):
            body = raw.decode("utf-8", "replace")
        entry = LoggedRequest(
            sim.next_seq(),
            time.time(),
            store,
            request.method,
            path,
            query,
            body if not path.startswith("/upload/") else None,
            "",
        )
        try:
            reply = _handle_store(sim, request, store, query, body, raw, content_type, parse_problem, entry)
        except Refusal as refusal:
            reply = refusal.reply
        entry.status = reply.status
        sim.record(entry)
        if entry.problems:
            log.warning("refused %s %s: %s", request.method, path, "; ".join(entry.problems))
        return _reply(reply)

    async def token(request: Request) -> Response:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        entry = LoggedRequest(
            sim.next_seq(),
            time.time(),
            "google_oauth",
            "POST",
            "/token",
            {},
            {"grant_type": form.get("grant_type", "")},
            "oauth2.token",
        )
        try:
            reply = sim.keys.google_token(form, f"{_base_url(request)}/token")
        except Refusal as refusal:
            reply = refusal.reply
        entry.status = reply.status
        sim.record(entry)
        return _reply(reply)

    async def admin(request: Request) -> Response:
        action = request.path_params["action"]
        payload = await request.json() if request.method == "POST" and await request.body() else {}
        try:
            return JSONResponse(_admin(sim, request, action, payload))
        except (KeyError, ValueError) as exc:
            return JSONResponse({"error": f"{action}: {exc}"}, status_code=400)

    routes = [
        Route("/token", token, methods=["POST"]),
        Route("/_sim/{action:path}", admin, methods=["GET", "POST", "DELETE"]),
        Route("/{path:path}", store_request, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
    ]
    return Starlette(routes=routes)


def _handle_store(
    sim: StoreSimulator,
    request: Request,
    store: str,
    query: dict[str, list[str]],
    body: Any,
    raw: bytes,
    content_type: str,
    parse_problem: str,
    entry: LoggedRequest,
) -> Reply:
    authorization = request.headers.get("authorization", "")
    if store == "google_play" and "upload_id" in query:
        # A resumable upload's later chunks go to the session URL the store handed out.
        entry.operation = "androidpublisher.edits.bundles.upload#resumable"
        sim.keys.check_google(authorization)
        return sim.play.continue_upload(query["upload_id"][0], request.headers.get("content-range", ""), raw)
    description = sim.play_description if store == "google_play" else sim.asc_description
    if description is None:
        entry.problems = [sim.asc_missing]
        raise apple_error(503, "UNAVAILABLE", "App Store Connect is not simulated here", sim.asc_missing)
    checked: Checked = description.check(request.method, request.url.path, query, body, content_type)
    entry.operation = checked.operation.name if checked.operation else ""
    entry.problems = ([parse_problem] if parse_problem else []) + checked.problems
    if store == "google_play":
        sim.keys.check_google(authorization)
    else:
        sim.keys.check_apple(authorization)
    if checked.operation is None:
        if store == "google_play":
            raise google_error(404, entry.problems[0], reason="notFound")
        raise apple_error(404, "NOT_FOUND", "The specified resource does not exist", entry.problems[0])
    if entry.problems:
        detail = "; ".join(entry.problems)
        if store == "google_play":
            raise google_error(400, f"Invalid request: {detail}", reason="invalid")
        raise apple_error(
            400,
            "PARAMETER_ERROR.INVALID" if not body else "ENTITY_ERROR",
            "The request is not valid according to the App Store Connect API description",
            detail,
        )
    fault = sim.take_fault(checked.operation.name)
    if fault:
        _apply_fault(sim, fault, checked.operation.path_params)
    if store == "google_play":
        return sim.play.handle(checked.operation, query, body, raw, _base_url(request))
    return sim.app_store.handle(checked.operation, query, body)


def _apply_fault(sim: StoreSimulator, fault: dict[str, Any], params: dict[str, str]) -> None:
    """A one-shot event just before an operation runs: the store's own rules then answer."""
    match fault["action"]:
        case "commit_elsewhere":  # someone commits another edit in the Play Console
            sim.play.commit_elsewhere(params["packageName"])
        case "expire_edit":
            sim.play.expire_edits(params["packageName"])
        case "status":  # the store is having a bad day
            status = int(fault.get("status", 503))
            if fault["operation"].startswith("androidpublisher."):
                raise google_error(
                    status,
                    fault.get("message", "The service is currently unavailable."),
                    reason="backendError",
                )
            raise apple_error(
                status,
                "UNEXPECTED_ERROR",
                "An unexpected error occurred.",
                fault.get("message", "An unexpected error occurred on the server side."),
            )
        case other:
            raise ValueError(f"unknown fault {other!r}")


def _admin(sim: StoreSimulator, request: Request, action: str, payload: dict[str, Any]) -> Any:
    method = request.method
    if action == "health":
        return {"ok": True}
    if action == "requests":
        if method == "DELETE":
            sim.requests.clear()
            return {"cleared": True}
        # ?invalid=1: only refused ones; ?operation=NAME; ?since=SEQ: only later ones.
        since = int(request.query_params.get("since", "0"))
        operation = request.query_params.get("operation")
        entries = [r.as_json() for r in sim.requests if r.seq > since]
        if request.query_params.get("invalid"):
            entries = [e for e in entries if not e["valid"]]
        if operation:
            entries = [e for e in entries if e["operation"] == operation]
        return {"requests": entries}
    if action == "credentials":
        return sim.credentials(_base_url(request))
    if action == "clock":
        if method == "POST":
            sim.clock.advance(float(payload["advance"]))
        return {"now": sim.clock.now(), "offset": sim.clock.offset}
    if action == "keys":
        if payload["store"] == "google_play":
            sim.keys.register_google(
                payload["private_key_id"], payload["client_email"], payload["public_key"]
            )
        else:
            sim.keys.register_apple(payload["key_id"], payload["issuer_id"], payload["public_key"])
        return {"registered": True}
    if action.startswith("keys/") and action.endswith("/revoke"):
        return {"revoked": sim.keys.revoke(action.split("/")[1])}
    if action == "google/expire-tokens":
        sim.keys.expire_access_tokens()
        return {"expired": True}
    if action == "faults":
        if method == "POST":
            sim.faults.append({"operation": payload["operation"], **payload})
        return {"faults": sim.faults}
    if action == "play/review":
        return {"changed": sim.play.decide_review(payload["package"], payload["decision"])}
    if action == "play/schedule":
        sim.play.approve_after_s = payload.get("approve_after")
        return {"approve_after": sim.play.approve_after_s}
    if action == "app-store/builds":
        build = sim.app_store.add_build(
            payload.get("app_id", DEFAULT_APP_ID),
            payload["version"],
            str(payload["build_number"]),
            payload.get("processing_state", "VALID"),
        )
        return {"id": build.id}
    if action.startswith("app-store/review-submissions/") and action.endswith("/state"):
        submission = sim.app_store.set_review_state(action.split("/")[2], payload["state"])
        return {"id": submission.id, "state": submission.state}
    if action == "app-store/schedule":
        sim.app_store.review_after_s = payload.get("review_after")
        sim.app_store.approve_after_s = payload.get("approve_after")
        return {"review_after": sim.app_store.review_after_s, "approve_after": sim.app_store.approve_after_s}
    if action == "state":
        sim.play.advance_reviews()
        sim.app_store.advance()
        return _state(sim)
    raise KeyError(f"unknown admin endpoint /_sim/{action}")


def _state(sim: StoreSimulator) -> dict[str, Any]:
    asc = sim.app_store
    return {
        "google_play": {
            package: {
                "tracks": app.tracks,
                "review": {",".join(codes): s["state"] for codes, s in app.lifecycle.items()},
                "commits": app.commits,
                "cancelled_reviews": app.cancelled_reviews,
            }
            for package, app in sim.play.apps.items()
        },
        "app_store": {
            "versions": {
                v.id: {"version": v.version_string, "state": v.state, "build": v.build_id}
                for v in asc.versions.values()
            },
            "review_submissions": {
                s.id: {"state": s.state, "version": s.version_id} for s in asc.submissions.values()
            },
            "phased_releases": {
                p.id: {"version": p.version_id, "state": p.state, "day": asc.phase_day(p)}
                for p in asc.phased.values()
            },
        },
    }
