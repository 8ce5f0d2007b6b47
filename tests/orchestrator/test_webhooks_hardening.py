"""Webhook input as an attacker would send it (issue 13, Found 3): an unsigned body costs no
decoding, nesting is bounded, shas must be shas, refs cannot carry control characters."""

from __future__ import annotations

import json
import time
import tracemalloc

import pytest

from orchestrator.webhooks import (
    MAX_NESTING,
    MAX_PAYLOAD_BYTES,
    PROVIDERS,
    BadRequest,
    BadSignature,
    PushNotice,
    address,
    open_delivery,
    read_delivery,
    sign,
)
from orchestrator.webhooks.payloads import check_nesting

SECRET = "s3cret-webhook-key"
GITHUB, GITLAB, GIT = PROVIDERS["github"], PROVIDERS["gitlab"], PROVIDERS["git"]
SHA = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291807"


def github_headers(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "X-Hub-Signature-256": sign(secret, body),
    }


def gitlab_headers(token: str = SECRET) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": token}


def github_push(**fields: object) -> bytes:
    data: dict[str, object] = {
        "ref": "refs/heads/main",
        "before": "0" * 40,
        "after": SHA,
        "repository": {"full_name": "acme/shop"},
    }
    data.update(fields)
    return json.dumps(data).encode()


def gitlab_push(**fields: object) -> bytes:
    data: dict[str, object] = {
        "ref": "refs/heads/main",
        "before": "0" * 40,
        "after": SHA,
        "checkout_sha": SHA,
        "project": {"path_with_namespace": "group/sub/shop"},
    }
    data.update(fields)
    return json.dumps(data).encode()


def flood(prefix: bytes = b"") -> bytes:
    """A body just under the 25 MB limit made of `{},` repeated: ~8.7 million empty objects."""
    unit = b"{},"
    count = (MAX_PAYLOAD_BYTES - len(prefix) - 16) // len(unit)
    return prefix + b"[" + unit * count + b"{}]" + (b"}" if prefix else b"")


def peak_allocation(call) -> tuple[int, BaseException | None]:  # type: ignore[no-untyped-def]
    """Peak bytes allocated by Python while `call()` runs, and what it raised."""
    tracemalloc.start()
    raised = None
    try:
        call()
    except BaseException as exc:  # noqa: BLE001 - returned to the test
        raised = exc
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, raised


# --- an unsigned body costs no decoding ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "body", "refusal"),
    [
        ("no repository at all", flood(), BadRequest),
        (
            "a repository, then the flood",
            flood(b'{"repository": {"full_name": "acme/shop"}, "x": '),
            BadSignature,
        ),
    ],
)
def test_a_25_mb_body_with_a_bad_signature_is_refused_without_decoding(
    name: str, body: bytes, refusal: type[Exception]
) -> None:
    assert len(body) <= MAX_PAYLOAD_BYTES
    headers = github_headers(body, secret="not-the-secret")
    started = time.perf_counter()
    peak, raised = peak_allocation(lambda: read_delivery(GITHUB, headers, body, SECRET))
    elapsed = time.perf_counter() - started
    assert isinstance(raised, refusal), raised
    # Decoding it would build ~8.7 million dicts (hundreds of MB, seconds); refusing it allocates
    # at most a copy of the 1 MB scan window.
    assert peak < 3 * 1024 * 1024, f"{name}: {peak / 1e6:.1f} MB allocated"
    assert elapsed < 2.0, f"{name}: {elapsed:.2f} s"


def test_the_repository_scan_stays_bounded_whatever_the_body() -> None:
    # Many candidate keys, none at the top level, and a huge string where the name should be.
    nested = b'{"a": [' + b'{"repository": {"full_name": "x/y"}},' * 20000 + b"{}]}"
    huge_name = b'{"repository": {"full_name": "' + b"a" * (20 * 1024 * 1024) + b'"}}'
    for body in (nested, huge_name):
        started = time.perf_counter()
        peak, raised = peak_allocation(lambda body=body: address(GITHUB, github_headers(b""), body))
        assert isinstance(raised, BadRequest) and "repository.full_name" in str(raised)
        assert peak < 3 * 1024 * 1024 and time.perf_counter() - started < 2.0


# --- nesting ------------------------------------------------------------------------------------


def deep(levels: int) -> bytes:
    return github_push()[:-1] + b', "x": ' + b"[" * levels + b"]" * levels + b"}"


def test_json_nested_1000_deep_is_a_bad_request_even_when_signed() -> None:
    body = deep(1000)
    with pytest.raises(BadRequest, match=f"nests deeper than {MAX_NESTING} levels") as info:
        read_delivery(GITHUB, github_headers(body), body, SECRET)
    assert info.value.status == 400
    with pytest.raises(BadSignature):  # unsigned: refused before anything is decoded
        read_delivery(GITHUB, github_headers(body, secret="guess"), body, SECRET)


def test_nesting_at_the_limit_is_accepted() -> None:
    body = deep(MAX_NESTING - 1)  # plus the top-level object
    assert isinstance(read_delivery(GITHUB, github_headers(body), body, SECRET), PushNotice)
    with pytest.raises(BadRequest, match="nests deeper"):
        read_delivery(GITHUB, github_headers(deep(MAX_NESTING)), deep(MAX_NESTING), SECRET)


@pytest.mark.parametrize(
    ("raw", "too_deep"),
    [
        (b'{"a": "[[[[[[[[[[[["}', False),  # brackets inside strings do not count
        (b'{"a": "\\"[[[[[[[[[[["}', False),  # nor after an escaped quote
        (b"[" * 5 + b"]" * 5, False),
        (b"[" * 6 + b"]" * 6, True),
        (b"[{}, {}, [[{}]]]", False),  # depth 4
        (b'[[[{"a": [[{}]]}]]]', True),
        (b"[[[[[[[[", False),  # unbalanced: left for the decoder to call malformed
    ],
)
def test_nesting_is_measured_without_decoding(raw: bytes, too_deep: bool) -> None:
    if too_deep:
        with pytest.raises(BadRequest):
            check_nesting(raw, limit=5)
    else:
        check_nesting(raw, limit=5)


# --- shas and refs ------------------------------------------------------------------------------


@pytest.mark.parametrize("after", ["main", "9e8d7c6", "g" * 40, SHA + "0", " " + SHA[1:]])
def test_github_after_must_be_a_commit_sha(after: str) -> None:
    body = github_push(after=after)
    with pytest.raises(BadRequest, match=r"`after` is not a commit sha \(40 or 64 hex digits\)"):
        read_delivery(GITHUB, github_headers(body), body, SECRET)


def test_sha256_repositories_and_upper_case_shas_are_accepted() -> None:
    body = github_push(after="AB" * 32)
    notice = read_delivery(GITHUB, github_headers(body), body, SECRET)
    assert isinstance(notice, PushNotice) and notice.after == "ab" * 32


def test_gitlab_checkout_sha_must_be_a_commit_sha_too() -> None:
    body = gitlab_push(checkout_sha="main")
    with pytest.raises(BadRequest, match="`checkout_sha` is not a commit sha"):
        read_delivery(GITLAB, gitlab_headers(), body, SECRET)
    with pytest.raises(BadRequest, match="`after` is not a commit sha"):
        read_delivery(GITLAB, gitlab_headers(), gitlab_push(after="main"), SECRET)


def test_git_notice_after_must_be_a_commit_sha() -> None:
    body = json.dumps({"repository": "acme/shop", "ref": "refs/heads/main", "after": "HEAD"}).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Instep-Event": "push",
        "X-Instep-Delivery": "d-1",
        "X-Instep-Signature-256": sign(SECRET, body),
    }
    with pytest.raises(BadRequest, match="`after` is not a commit sha"):
        read_delivery(GIT, headers, body, SECRET)


@pytest.mark.parametrize(
    ("ref", "code"),
    [
        ("refs/heads/main\nINFO fake log line", "000A"),
        ("refs/heads/a\rb", "000D"),
        ("refs/heads/\x1b[31m", "001B"),
    ],
)
def test_refs_with_control_characters_are_refused_naming_the_field(ref: str, code: str) -> None:
    body = github_push(ref=ref)
    with pytest.raises(BadRequest, match=f"`ref` contains the control character U\\+{code}") as info:
        read_delivery(GITHUB, github_headers(body), body, SECRET)
    assert info.value.status == 400
    with pytest.raises(BadRequest, match="`ref` contains the control character"):
        read_delivery(GITLAB, gitlab_headers(), gitlab_push(ref=ref), SECRET)


def test_a_pusher_name_with_a_newline_is_refused() -> None:
    body = github_push(pusher={"name": "mara\nINFO job succeeded"})
    with pytest.raises(BadRequest, match="`pusher.name` contains the control character U\\+000A"):
        read_delivery(GITHUB, github_headers(body), body, SECRET)


def test_an_overlong_delivery_id_is_refused() -> None:
    body = github_push()
    headers = {**github_headers(body), "X-GitHub-Delivery": "d" * 201}
    with pytest.raises(BadRequest, match="X-GitHub-Delivery must be at most 200 printable characters"):
        read_delivery(GITHUB, headers, body, SECRET)


# --- unknown repository vs bad signature ---------------------------------------------------------


def test_an_unknown_repository_is_refused_exactly_like_a_bad_signature() -> None:
    body = github_push()
    headers = github_headers(body, secret="a-guess")
    addressed = address(GITHUB, headers, body)
    with pytest.raises(BadSignature) as unknown:
        open_delivery(addressed, headers, body, None)  # no project matches
    with pytest.raises(BadSignature) as wrong:
        open_delivery(addressed, headers, body, SECRET)  # the project exists, the secret differs
    assert (unknown.value.status, str(unknown.value)) == (wrong.value.status, str(wrong.value))
    # Even a correctly signed delivery for an unknown repository gets no further.
    with pytest.raises(BadSignature):
        open_delivery(addressed, github_headers(body), body, None)
    gl_headers = gitlab_headers("a-guess")
    gl_addressed = address(GITLAB, gl_headers, gitlab_push())
    with pytest.raises(BadSignature) as unknown:
        open_delivery(gl_addressed, gl_headers, gitlab_push(), None)
    with pytest.raises(BadSignature) as wrong:
        open_delivery(gl_addressed, gl_headers, gitlab_push(), SECRET)
    assert str(unknown.value) == str(wrong.value)
