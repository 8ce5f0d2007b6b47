"""The store simulator on 127.0.0.1 for each test (a uvicorn server in a thread, stopped by the test),
adapters pointed at it, and the check that every request the adapters sent was valid."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from stores import AppStoreConnect, AppStoreKey, Candidate, GooglePlay
from stores.simulator import SimulatorConfig, StoreSimulator, create_app, make_test_bundle
from stores.simulator.descriptions import DEFAULT_ASC_SCHEMAS
from stores.simulator.server import DEFAULT_APP_ID, DEFAULT_PACKAGE
from tests.conftest import require_service

START_DEADLINE_S = 10.0


def require_asc_schemas() -> None:
    require_service(
        "App Store Connect schemas",
        DEFAULT_ASC_SCHEMAS.is_file(),
        f"{DEFAULT_ASC_SCHEMAS} is missing; run scripts/install-store-schemas.sh (make tools)",
    )


@dataclass
class Sim:
    url: str
    state: StoreSimulator
    admin: httpx.Client
    # Tests that send malformed requests on purpose turn this off; all others end with no invalid one.
    expect_only_valid: bool = True

    def requests(self, *, store: str | None = None, invalid: bool = False) -> list[dict[str, Any]]:
        entries = self.admin.get("/_sim/requests", params={"invalid": "1"} if invalid else None).json()[
            "requests"
        ]
        return [e for e in entries if store is None or e["store"] == store]

    def operations(self, store: str) -> list[str]:
        return [e["operation"] for e in self.requests(store=store)]

    def post(self, action: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.admin.post(f"/_sim/{action}", json=payload or {})
        assert response.status_code == 200, response.text
        return response.json()

    def credentials(self) -> dict[str, Any]:
        return self.admin.get("/_sim/credentials").json()

    def play(self, **kwargs: Any) -> GooglePlay:
        return GooglePlay(
            service_account_info=kwargs.pop("service_account_info", self.credentials()["google_play"]),
            package_name=kwargs.pop("package_name", DEFAULT_PACKAGE),
            root_url=self.url,
            **kwargs,
        )

    def app_store(self, **kwargs: Any) -> AppStoreConnect:
        key = kwargs.pop("key", None) or AppStoreKey(**self.credentials()["app_store"])
        return AppStoreConnect(
            key=key, app_id=kwargs.pop("app_id", DEFAULT_APP_ID), base_url=self.url, **kwargs
        )


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


def _serve(asc_schemas: Path | None) -> Iterator[Sim]:
    state = StoreSimulator(SimulatorConfig(asc_schemas=asc_schemas))
    sock = _free_socket()
    server = uvicorn.Server(uvicorn.Config(create_app(state), log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_DEADLINE_S
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the store simulator did not start")
        time.sleep(0.01)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with httpx.Client(base_url=url, timeout=10) as admin:
        sim = Sim(url, state, admin)
        try:
            yield sim
            if sim.expect_only_valid:
                invalid = sim.requests(invalid=True)
                assert not invalid, f"requests the official descriptions refuse: {invalid}"
            # Google's default would cancel what is in review: no commit may rely on it.
            commits = sim.admin.get("/_sim/requests", params={"operation": "androidpublisher.edits.commit"})
            for commit in (c for c in commits.json()["requests"] if c["valid"]):
                assert commit["query"].get("changesInReviewBehavior") == ["ERROR_IF_IN_REVIEW"], commit
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            sock.close()


@pytest.fixture
def sim() -> Iterator[Sim]:
    """Google Play only (App Store Connect answers 503): needs no npm schemas."""
    yield from _serve(None)


@pytest.fixture
def full_sim() -> Iterator[Sim]:
    """Both stores; App Store Connect requests validated against the npm schemas."""
    require_asc_schemas()
    yield from _serve(DEFAULT_ASC_SCHEMAS)


@pytest.fixture
def aab(tmp_path: Path):
    def make(version_code: int, version: str = "1.0.0", notes: dict[str, str] | None = None) -> Candidate:
        path = tmp_path / f"app-{version_code}.aab"
        path.write_bytes(make_test_bundle(version_code, version))
        return Candidate(
            version=version, build_number=str(version_code), artifact=path, release_notes=notes or {}
        )

    return make
