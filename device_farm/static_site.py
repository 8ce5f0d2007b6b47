"""Serve a built web app directory on 127.0.0.1 (a free port) for the duration of a suite."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path
from types import TracebackType


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        return None


class StaticSite:
    """`with StaticSite(dir) as site: site.url` serves `dir` until the block ends."""

    def __init__(self, directory: Path) -> None:
        if not (directory / "index.html").exists():
            raise FileNotFoundError(f"{directory} has no index.html to serve")
        handler = functools.partial(_QuietHandler, directory=str(directory))
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="static-site", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def __enter__(self) -> StaticSite:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
