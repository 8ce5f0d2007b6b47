"""Clone URLs with credentials: stored sealed, shown redacted, and cloned with — through a real
git HTTP server on 127.0.0.1 that demands them — without writing them to disk or argv."""

from __future__ import annotations

import base64
import os
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from orchestrator.clone_urls import credentials_in, git_credential_config, public_url, redacted_url, scrub
from orchestrator.workspaces import WorkspaceError, ensure_commit, fetch_ref

TOKEN = "ghs_0123456789abcdefSECRET"


@pytest.mark.parametrize(
    ("url", "credentials", "shown", "public"),
    [
        (
            f"https://x-access-token:{TOKEN}@github.com/acme/shop.git",
            f"x-access-token:{TOKEN}",
            "https://***@github.com/acme/shop.git",
            "https://github.com/acme/shop.git",
        ),
        (f"https://{TOKEN}@github.com/acme/shop.git", TOKEN, "https://***@github.com/acme/shop.git", None),
        (
            "https://oauth2:p%40ss@gitlab.example:8443/g/s/shop.git",
            "oauth2:p%40ss",
            "https://***@gitlab.example:8443/g/s/shop.git",
            None,
        ),
        ("ssh://git@gitlab.example:2222/g/shop.git", None, None, None),
        ("ssh://git:pw@host/g/shop.git", "git:pw", "ssh://***@host/g/shop.git", "ssh://git@host/g/shop.git"),
        ("git@github.com:acme/shop.git", None, None, None),
        ("https://github.com/acme/shop.git", None, None, None),
        ("file:///srv/git/acme/shop.git", None, None, None),
    ],
)
def test_credentials_are_found_redacted_and_removed(
    url: str, credentials: str | None, shown: str | None, public: str | None
) -> None:
    assert credentials_in(url) == credentials
    assert redacted_url(url) == (shown or url)
    if public is not None:
        assert public_url(url) == public
    elif credentials is None:
        assert public_url(url) == url


def test_git_gets_the_credentials_as_a_header_scoped_to_the_host() -> None:
    env = git_credential_config("https://oauth2:p%40ss@gitlab.example:8443/g/shop.git")
    assert env["GIT_CONFIG_KEY_0"] == "http.https://gitlab.example:8443/.extraHeader"
    assert env["GIT_CONFIG_VALUE_0"] == "Authorization: Basic " + base64.b64encode(b"oauth2:p@ss").decode()
    assert git_credential_config("https://github.com/acme/shop.git") == {}
    assert git_credential_config("ssh://git:pw@host/g/shop.git") == {}


def test_git_messages_are_scrubbed() -> None:
    url = f"https://x-access-token:{TOKEN}@github.com/acme/shop.git"
    message = f"fatal: unable to access 'https://x-access-token:{TOKEN}@github.com/acme/shop.git/'"
    assert TOKEN not in scrub(message, url)


# --- a real clone over HTTP with Basic authentication --------------------------------------------


class GitServer:
    """`git http-backend` behind a Basic-auth check, on 127.0.0.1; records the argv of nothing
    and the Authorization headers it saw."""

    def __init__(self, root: Path, user: str, password: str) -> None:
        self.root = root
        self.expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.seen: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._cgi()

            def do_POST(self) -> None:
                self._cgi()

            def _cgi(self) -> None:
                auth = self.headers.get("Authorization")
                server.seen.append(auth)
                if auth != server.expected:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="git"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                path, _, query = self.path.partition("?")
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                env = {
                    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "GIT_PROJECT_ROOT": str(server.root),
                    "GIT_HTTP_EXPORT_ALL": "1",
                    "REQUEST_METHOD": self.command,
                    "PATH_INFO": path,
                    "QUERY_STRING": query,
                    "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                    "CONTENT_LENGTH": str(len(body)),
                    "REMOTE_USER": "git",
                }
                out = subprocess.run(
                    ["git", "http-backend"], input=body, env=env, capture_output=True, timeout=30, check=True
                ).stdout
                head, _, payload = out.partition(b"\r\n\r\n")
                status = 200
                headers = []
                for line in head.decode().split("\r\n"):
                    name, _, value = line.partition(": ")
                    if name.lower() == "status":
                        status = int(value.split()[0])
                    elif name:
                        headers.append((name, value))
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> GitServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


def _git(*args: str, cwd: Path | None = None) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@x",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@x",
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[GitServer, str]]:
    work = tmp_path / "work"
    work.mkdir()
    _git("init", "-q", "-b", "main", cwd=work)
    (work / "instep.yml").write_text("version: 1\n")
    _git("add", ".", cwd=work)
    _git("commit", "-q", "-m", "first", cwd=work)
    sha = _git("rev-parse", "HEAD", cwd=work)
    root = tmp_path / "srv"
    root.mkdir()
    _git("clone", "-q", "--bare", str(work), str(root / "shop.git"))
    with GitServer(root, "x-access-token", TOKEN) as server:
        yield server, sha


def test_the_worker_clones_with_the_credentials_and_keeps_them_off_disk(
    served: tuple[GitServer, str], tmp_path: Path
) -> None:
    server, sha = served
    url = f"http://x-access-token:{TOKEN}@127.0.0.1:{server.port}/shop.git"
    mirrors = tmp_path / "mirrors"
    mirror = ensure_commit(mirrors, 1, url, sha)
    assert _git("cat-file", "-t", sha, cwd=mirror) == "commit"
    assert fetch_ref(mirrors, 1, url, "main") == sha  # a fetch into the existing mirror
    assert server.seen and set(server.seen) <= {server.expected, None}
    on_disk = b"".join(p.read_bytes() for p in mirror.rglob("*") if p.is_file())
    assert TOKEN.encode() not in on_disk
    assert _git("config", "remote.origin.url", cwd=mirror) == f"http://127.0.0.1:{server.port}/shop.git"


def test_a_refused_clone_names_the_url_without_the_credentials(
    served: tuple[GitServer, str], tmp_path: Path
) -> None:
    server, sha = served
    url = f"http://x-access-token:wrong-{TOKEN}@127.0.0.1:{server.port}/shop.git"
    with pytest.raises(WorkspaceError) as info:
        ensure_commit(tmp_path / "mirrors", 1, url, sha)
    assert TOKEN not in str(info.value)
