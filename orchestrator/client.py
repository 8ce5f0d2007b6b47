"""A small HTTP client for the REST API, used by the CLI (a test can inject an httpx transport)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx


class ApiError(Exception):
    """The server refused a request; carries the HTTP status and the server's reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class InstepClient:
    def __init__(self, url: str, token: str | None, transport: httpx.BaseTransport | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url = url
        self.http = httpx.Client(base_url=url, headers=headers, timeout=30.0, transport=transport)

    def _check(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise ApiError(
                response.status_code,
                f"{response.request.method} {response.request.url.path}: {response.status_code} {detail}",
            )
        return response.json()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            return self._check(self.http.request(method, path, **kwargs))
        except httpx.TransportError as exc:
            raise ApiError(
                0, f"cannot reach Instep at {self.url}: {exc} (is `instep serve` running? set INSTEP_URL)"
            ) from exc

    def stream_log(self, job_id: int, start: int = 0) -> Iterator[tuple[str, str]]:
        """(event, data) pairs from the job's SSE log stream: ("line", text) ... ("end", status)."""
        headers = {"Last-Event-ID": str(start - 1)} if start else {}
        try:
            with self.http.stream(
                "GET", f"/api/jobs/{job_id}/log/stream", headers=headers, timeout=None
            ) as r:
                if r.status_code >= 400:
                    r.read()
                    self._check(r)
                event = "line"
                for raw in r.iter_lines():
                    if raw.startswith("event: "):
                        event = raw[len("event: ") :]
                    elif raw.startswith("data: ") or raw == "data:":
                        yield event, raw[len("data: ") :]
                        event = "line"
        except httpx.TransportError as exc:
            raise ApiError(0, f"lost the log stream from {self.url}: {exc}") from exc

    def text(self, path: str) -> str:
        response = self.http.get(path)
        if response.status_code >= 400:
            self._check(response)
        return response.text
