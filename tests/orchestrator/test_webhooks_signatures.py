"""Signatures (GitHub, Instep's hook) and tokens (GitLab): what is accepted, what is refused with
401, and that the comparison is constant-time."""

from __future__ import annotations

import hashlib
import hmac
import inspect

import pytest

from orchestrator.webhooks import (
    PROVIDERS,
    BadSignature,
    PushNotice,
    read_delivery,
    sign,
    signatures,
)

SECRET = "s3cret-webhook-key"
BODY = b'{"ref": "refs/heads/main", "after": "' + b"b" * 40 + b'", "repository": {"full_name": "acme/shop"}}'
GITLAB_BODY = (
    b'{"ref": "refs/heads/main", "after": "'
    + b"b" * 40
    + b'", "project": {"path_with_namespace": "acme/shop"}}'
)
GIT_BODY = b'{"ref": "refs/heads/main", "after": "' + b"b" * 40 + b'", "repository": "acme/shop"}'


def parse_github(h: dict[str, str], body: bytes, secret: str):  # type: ignore[no-untyped-def]
    return read_delivery(PROVIDERS["github"], h, body, secret)


def parse_gitlab(h: dict[str, str], body: bytes, secret: str):  # type: ignore[no-untyped-def]
    return read_delivery(PROVIDERS["gitlab"], h, body, secret)


def parse_git(h: dict[str, str], body: bytes, secret: str):  # type: ignore[no-untyped-def]
    return read_delivery(PROVIDERS["git"], h, body, secret)


def headers(signature: str | None) -> dict[str, str]:
    h = {"Content-Type": "application/json", "X-GitHub-Event": "push", "X-GitHub-Delivery": "d-1"}
    if signature is not None:
        h["X-Hub-Signature-256"] = signature
    return h


def test_sign_matches_githubs_documented_example() -> None:
    # docs.github.com "Validating webhook deliveries": secret "It's a Secret to Everybody",
    # payload "Hello, World!".
    assert sign("It's a Secret to Everybody", b"Hello, World!") == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    )


def test_valid_signature_is_accepted() -> None:
    notice = parse_github(headers(sign(SECRET, BODY)), BODY, SECRET)
    assert isinstance(notice, PushNotice) and notice.repository == "acme/shop"


def test_uppercase_hex_signature_is_accepted() -> None:
    assert isinstance(
        parse_github(headers(sign(SECRET, BODY).upper().replace("SHA256", "sha256")), BODY, SECRET),
        PushNotice,
    )


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        (sign("another-secret", BODY), "does not match the body"),
        (None, "missing header X-Hub-Signature-256"),
        ("", "missing header X-Hub-Signature-256"),
        ("sha1=" + hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest(), "not of the form sha256="),
        (hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest(), "not of the form sha256="),
        ("sha256=abc", "not of the form sha256="),
        (sign(SECRET, BODY)[:-1] + "g", "not of the form sha256="),
    ],
    ids=["wrong-secret", "missing", "empty", "sha1", "no-prefix", "short", "not-hex"],
)
def test_bad_signatures_are_refused_with_401(signature: str | None, reason: str) -> None:
    with pytest.raises(BadSignature, match=reason) as info:
        parse_github(headers(signature), BODY, SECRET)
    assert info.value.status == 401


def test_tampered_body_is_refused() -> None:
    signature = sign(SECRET, BODY)
    tampered = BODY.replace(b"acme/shop", b"acme/evil")
    with pytest.raises(BadSignature, match="does not match"):
        parse_github(headers(signature), tampered, SECRET)


def test_a_project_without_secret_accepts_nothing() -> None:
    # Anyone can compute an HMAC keyed with the empty string.
    with pytest.raises(BadSignature, match="no webhook secret"):
        parse_github(headers(sign("", BODY)), BODY, "")
    with pytest.raises(BadSignature, match="no webhook secret"):
        parse_gitlab(
            {"Content-Type": "application/json", "X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": ""},
            GITLAB_BODY,
            "",
        )


@pytest.mark.parametrize(
    ("token", "reason"),
    [(None, "missing header X-Gitlab-Token"), ("wrong", "is wrong"), (SECRET + " ", "is wrong")],
)
def test_bad_gitlab_tokens_are_refused_with_401(token: str | None, reason: str) -> None:
    h = {"Content-Type": "application/json", "X-Gitlab-Event": "Push Hook"}
    if token is not None:
        h["X-Gitlab-Token"] = token
    with pytest.raises(BadSignature, match=reason) as info:
        parse_gitlab(h, GITLAB_BODY, SECRET)
    assert info.value.status == 401


def test_git_notice_signature_header_is_required() -> None:
    h = {"Content-Type": "application/json", "X-Instep-Event": "push", "X-Instep-Delivery": "d"}
    with pytest.raises(BadSignature, match="missing header X-Instep-Signature-256"):
        parse_git(h, GIT_BODY, SECRET)


def test_comparisons_go_through_hmac_compare_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(signatures.hmac, "compare_digest", spy)
    with pytest.raises(BadSignature):
        parse_github(headers(sign("guess", BODY)), BODY, SECRET)
    with pytest.raises(BadSignature):
        parse_gitlab(
            {"Content-Type": "application/json", "X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "guess"},
            GITLAB_BODY,
            SECRET,
        )
    assert len(calls) == 2
    # No early-exit string comparison of secrets or digests anywhere in the module.
    source = inspect.getsource(signatures)
    assert "==" not in source and "!=" not in source
