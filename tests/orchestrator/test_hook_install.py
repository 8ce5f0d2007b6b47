"""`instep hook install`: a real bare repository, a real `git push`, and a local HTTP server that
stands in for Instep and records what the post-receive hook sent."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from orchestrator.cli import main
from orchestrator.webhooks import PROVIDERS, BadSignature, PushNotice, read_delivery

SECRET = "hook-secret-0123"
ZERO = "0" * 40


@dataclass
class Recorder:
    """What the fake Instep received, and what it answers."""

    url: str = ""
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    status: int = 201
    answer: dict = field(default_factory=lambda: {"status": "queued", "reason": None, "run_id": 7})


@pytest.fixture
def instep() -> Iterator[Recorder]:
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            recorder.requests.append((self.path, dict(self.headers.items()), body))
            payload = json.dumps(recorder.answer).encode()
            self.send_response(recorder.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield recorder
    server.shutdown()
    server.server_close()


def git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "REMOTE_USER": "mara",
    }
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


@dataclass
class Repos:
    bare: Path
    work: Path

    def commit(self, message: str) -> str:
        (self.work / "README.md").write_text(message)
        assert git(self.work, "add", "-A").returncode == 0
        assert git(self.work, "commit", "-q", "-m", message).returncode == 0
        return git(self.work, "rev-parse", "HEAD").stdout.strip()


@pytest.fixture
def repos(tmp_path: Path) -> Repos:
    bare = tmp_path / "srv" / "git" / "acme" / "shop.git"
    bare.parent.mkdir(parents=True)
    assert git(tmp_path, "init", "-q", "--bare", "--initial-branch=main", str(bare)).returncode == 0
    work = tmp_path / "work"
    assert git(tmp_path, "clone", "-q", str(bare), str(work)).returncode == 0
    git(work, "checkout", "-q", "-B", "main")
    return Repos(bare, work)


def install(*args: str) -> Result:
    return CliRunner().invoke(main, ["hook", "install", *args], catch_exceptions=False)


def notices(recorder: Recorder) -> list[PushNotice]:
    found = []
    for path, headers, body in recorder.requests:
        assert path == "/api/webhooks/git"
        notice = read_delivery(PROVIDERS["git"], headers, body, SECRET)
        assert isinstance(notice, PushNotice)
        found.append(notice)
    return found


def test_push_sends_one_signed_notice_per_ref(repos: Repos, instep: Recorder) -> None:
    result = install(str(repos.bare), "--url", instep.url + "/", "--secret", SECRET)
    assert result.exit_code == 0, result.output
    assert f"pushes notify {instep.url}/api/webhooks/git as acme/shop" in result.output
    hook = repos.bare / "hooks" / "post-receive"
    assert stat.S_IMODE(hook.stat().st_mode) == 0o700, "the hook holds the secret"

    first = repos.commit("Order list: show delivery date")
    push = git(repos.work, "push", "origin", "main")
    assert push.returncode == 0, push.stderr
    assert "instep: run 7 queued for refs/heads/main" in push.stderr
    [notice] = notices(instep)
    assert (notice.repository, notice.ref, notice.before, notice.after) == (
        "acme/shop",
        "refs/heads/main",
        ZERO,
        first,
    )
    assert notice.deleted is False
    assert notice.pusher == "mara"
    assert notice.head_message == "Order list: show delivery date"

    # Two refs in one push: two notices with distinct delivery ids.
    second = repos.commit("Settings: add language picker")
    git(repos.work, "tag", "v1.4.0")
    instep.requests.clear()
    push = git(repos.work, "push", "origin", "main", "v1.4.0")
    assert push.returncode == 0, push.stderr
    by_ref = {n.ref: n for n in notices(instep)}
    assert by_ref["refs/heads/main"].before == first and by_ref["refs/heads/main"].after == second
    assert by_ref["refs/tags/v1.4.0"].after == second
    assert len({n.delivery_id for n in by_ref.values()}) == 2

    # A deletion is notified too; Instep decides that it starts nothing.
    instep.requests.clear()
    instep.status, instep.answer = (
        202,
        {"status": "ignored", "reason": "refs/tags/v1.4.0 was deleted", "run_id": None},
    )
    push = git(repos.work, "push", "origin", ":refs/tags/v1.4.0")
    assert push.returncode == 0, push.stderr
    assert "instep: ignored for refs/tags/v1.4.0: refs/tags/v1.4.0 was deleted" in push.stderr
    [deleted] = notices(instep)
    assert deleted.deleted and deleted.before == second


def test_notice_is_signed_with_the_installed_secret_only(repos: Repos, instep: Recorder) -> None:
    secret = "quote' dquote\" backslash\\ unicode-é"  # embedded in the script as a literal
    install(str(repos.bare), "--url", instep.url, "--secret", secret)
    repos.commit("one")
    push = git(repos.work, "push", "origin", "main")
    assert "instep: run 7 queued" in push.stderr, push.stderr
    [(_, headers, body)] = instep.requests
    assert isinstance(read_delivery(PROVIDERS["git"], headers, body, secret), PushNotice)
    with pytest.raises(BadSignature):
        read_delivery(PROVIDERS["git"], headers, body, "some-other-secret")


def test_duplicate_answer_is_shown_to_the_pusher(repos: Repos, instep: Recorder) -> None:
    install(str(repos.bare), "--url", instep.url, "--secret", SECRET)
    instep.status, instep.answer = 200, {"status": "duplicate", "reason": "already received", "run_id": 3}
    repos.commit("one")
    push = git(repos.work, "push", "origin", "main")
    assert "instep: duplicate notice for refs/heads/main (run 3)" in push.stderr


def test_refusal_by_instep_is_shown_and_the_push_still_succeeds(repos: Repos, instep: Recorder) -> None:
    install(str(repos.bare), "--url", instep.url, "--secret", SECRET, "--repository", "acme/web-shop")
    instep.status, instep.answer = 404, {"detail": "no project matches repository 'acme/web-shop'"}
    repos.commit("one")
    push = git(repos.work, "push", "origin", "main")
    assert push.returncode == 0
    assert (
        "instep: could not notify Instep about refs/heads/main: HTTP 404 no project matches repository "
        "'acme/web-shop'" in push.stderr
    )
    assert notices(instep)[0].repository == "acme/web-shop"


def test_instep_down_does_not_fail_the_push(repos: Repos, tmp_path: Path) -> None:
    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    install(str(repos.bare), "--url", f"http://127.0.0.1:{port}", "--secret", SECRET)
    sha = repos.commit("one")
    git(repos.work, "tag", "v1")
    push = git(repos.work, "push", "origin", "main", "v1")
    assert push.returncode == 0, push.stderr
    reason = f"http://127.0.0.1:{port}/api/webhooks/git unreachable"
    assert f"instep: could not notify Instep about refs/heads/main: {reason}" in push.stderr
    assert f"instep: could not notify Instep about refs/tags/v1: {reason}" in push.stderr
    assert "refused" in push.stderr.lower()
    assert git(repos.bare, "rev-parse", "main").stdout.strip() == sha, "the push went through"


def test_secret_file_is_an_alternative_to_secret(repos: Repos, instep: Recorder, tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    result = install(str(repos.bare), "--url", instep.url, "--secret-file", str(secret_file))
    assert result.exit_code == 0, result.output
    repos.commit("one")
    git(repos.work, "push", "origin", "main")
    assert len(notices(instep)) == 1


def test_refuses_a_directory_that_is_not_a_bare_repository(repos: Repos) -> None:
    result = install(str(repos.work), "--url", "http://127.0.0.1:1", "--secret", SECRET)
    assert result.exit_code == 2
    assert f"{repos.work} is not a bare git repository" in result.output
    assert not (repos.work / "hooks").exists()


def test_refuses_to_replace_an_existing_hook_without_force(repos: Repos) -> None:
    hook = repos.bare / "hooks" / "post-receive"
    hook.write_text("#!/bin/sh\necho mine\n")
    result = install(str(repos.bare), "--url", "http://127.0.0.1:1", "--secret", SECRET)
    assert result.exit_code == 2
    assert "already exists; pass --force to replace it" in result.output
    assert hook.read_text() == "#!/bin/sh\necho mine\n"

    result = install(str(repos.bare), "--url", "http://127.0.0.1:1", "--secret", SECRET, "--force")
    assert result.exit_code == 0, result.output
    assert "instep" in hook.read_text().lower() and stat.S_IMODE(hook.stat().st_mode) == 0o700


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give the project's webhook secret with --secret or --secret-file"),
        (["--secret", SECRET, "--secret-file", __file__], "not both"),
        (["--secret", SECRET, "--url", "instep.example"], "is not an http(s) URL"),
    ],
)
def test_refuses_incomplete_options(repos: Repos, args: list[str], message: str) -> None:
    result = install(str(repos.bare), "--url", "http://127.0.0.1:1", *args)
    assert result.exit_code == 2 and message in result.output
    assert not (repos.bare / "hooks" / "post-receive").exists()


def test_help_mentions_the_secret_and_the_file_mode() -> None:
    result = CliRunner().invoke(main, ["hook", "install", "--help"])
    assert result.exit_code == 0
    assert "0700" in result.output and "--secret-file" in result.output and "--force" in result.output
