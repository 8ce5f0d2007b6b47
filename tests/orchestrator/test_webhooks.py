"""Reading webhook deliveries: GitHub, GitLab and Instep's own notice, from documented payload
shapes (fixtures/webhooks), and every way a delivery is refused with its HTTP status."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from urllib.parse import urlencode

import pytest

from orchestrator.webhooks import (
    MAX_PAYLOAD_BYTES,
    PROVIDERS,
    BadRequest,
    BadSignature,
    Ignored,
    PayloadTooLarge,
    Ping,
    PushNotice,
    WebhookError,
    address,
    default_match_name,
    read_delivery,
    sign,
)
from orchestrator.webhooks.payloads import JSON, decode

FIXTURES = Path(__file__).parent / "fixtures" / "webhooks"
SECRET = "s3cret-webhook-key"
ZERO = "0" * 40
GITHUB, GITLAB, GIT = PROVIDERS["github"], PROVIDERS["gitlab"], PROVIDERS["git"]
REPOSITORY = b'{"repository": {"full_name": "acme/shop"}, '


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def github_headers(body: bytes, event: str = "push", secret: str = SECRET, **extra: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "X-Hub-Signature-256": sign(secret, body),
        "User-Agent": "GitHub-Hookshot/044aadd",
        **extra,
    }


def gitlab_headers(event: str = "Push Hook", token: str = SECRET, **extra: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Gitlab-Event": event, "X-Gitlab-Token": token, **extra}


def git_notice(**fields: object) -> tuple[dict[str, str], bytes]:
    data = {
        "repository": "acme/shop",
        "ref": "refs/heads/main",
        "before": "a" * 40,
        "after": "b" * 40,
        "pusher": "mara",
    }
    data.update(fields)
    body = json.dumps(data).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Instep-Event": "push",
        "X-Instep-Delivery": "0b5c6a1e-4d8f-4a51-9d2e-1f7b3c9a8e60",
        "X-Instep-Signature-256": sign(SECRET, body),
    }
    return headers, body


# --- GitHub ---------------------------------------------------------------------------------------


def test_github_push_becomes_a_push_notice() -> None:
    body = fixture("github_push.json")
    notice = read_delivery(GITHUB, github_headers(body), body, SECRET)
    assert notice == PushNotice(
        provider="github",
        delivery_id="72d3162e-cc78-11e3-81ab-4c9367dc0958",
        repository="acme/shop",
        ref="refs/heads/main",
        before="1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d",
        after="9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291807",
        deleted=False,
        pusher="mara-dev",
        head_message="Settings: add language picker\n\nCloses #41",
    )


def test_github_tag_push_keeps_the_full_tag_ref() -> None:
    body = fixture("github_push_tag.json")
    notice = read_delivery(GITHUB, github_headers(body), body, SECRET)
    assert isinstance(notice, PushNotice)
    assert (notice.ref, notice.before, notice.deleted) == ("refs/tags/v1.4.0", ZERO, False)


def test_github_branch_deletion_is_detected() -> None:
    body = fixture("github_push_delete.json")
    notice = read_delivery(GITHUB, github_headers(body), body, SECRET)
    assert isinstance(notice, PushNotice)
    assert notice.deleted and notice.after == ZERO and notice.head_message is None
    assert notice.ref == "refs/heads/feature/language-picker"


def test_github_all_zero_after_counts_as_deletion_even_without_the_deleted_flag() -> None:
    data = json.loads(fixture("github_push_delete.json"))
    del data["deleted"]
    body = json.dumps(data).encode()
    notice = read_delivery(GITHUB, github_headers(body), body, SECRET)
    assert isinstance(notice, PushNotice) and notice.deleted


def test_github_ping_is_answered_as_a_ping() -> None:
    body = fixture("github_ping.json")
    notice = read_delivery(GITHUB, github_headers(body, event="ping"), body, SECRET)
    assert notice == Ping(
        provider="github", delivery_id="72d3162e-cc78-11e3-81ab-4c9367dc0958", repository="acme/shop"
    )


def test_other_github_events_are_ignored_with_the_reason() -> None:
    body = json.dumps({"action": "opened", "repository": {"full_name": "acme/shop"}}).encode()
    notice = read_delivery(GITHUB, github_headers(body, event="pull_request"), body, SECRET)
    assert isinstance(notice, Ignored)
    assert notice.event == "pull_request" and "only push" in notice.reason


def test_github_form_encoded_delivery_is_read_from_its_payload_field() -> None:
    body = urlencode({"payload": fixture("github_push.json").decode()}).encode()
    headers = github_headers(body, **{"Content-Type": "application/x-www-form-urlencoded"})
    notice = read_delivery(GITHUB, headers, body, SECRET)
    assert isinstance(notice, PushNotice) and notice.after == "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291807"
    assert address(PROVIDERS["github"], headers, body).repository == "acme/shop"


def test_form_encoded_delivery_without_payload_field_is_a_bad_request() -> None:
    body = b"other=1"
    headers = github_headers(body, **{"Content-Type": "application/x-www-form-urlencoded"})
    with pytest.raises(BadRequest, match="no `payload` field"):
        read_delivery(GITHUB, headers, body, SECRET)


def test_headers_are_matched_whatever_their_case() -> None:
    body = fixture("github_push.json")
    lower = {k.lower(): v for k, v in github_headers(body).items()}
    upper = {k.upper(): v for k, v in github_headers(body).items()}
    assert read_delivery(GITHUB, lower, body, SECRET) == read_delivery(GITHUB, upper, body, SECRET)


def test_content_type_parameters_are_accepted() -> None:
    body = fixture("github_push.json")
    headers = github_headers(body, **{"Content-Type": "application/json; charset=utf-8"})
    assert isinstance(read_delivery(GITHUB, headers, body, SECRET), PushNotice)


# --- GitLab ---------------------------------------------------------------------------------------


def test_gitlab_push_hook_becomes_a_push_notice() -> None:
    body = fixture("gitlab_push.json")
    headers = gitlab_headers(**{"X-Gitlab-Event-UUID": "13792a34-cac6-4fda-95a8-c58e00a3954e"})
    notice = read_delivery(GITLAB, headers, body, SECRET)
    assert notice == PushNotice(
        provider="gitlab",
        delivery_id="13792a34-cac6-4fda-95a8-c58e00a3954e",
        repository="acme/shop",
        ref="refs/heads/main",
        before="95790bf891e76fee5e1747ab589903a6a1f80f22",
        after="da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
        deleted=False,
        pusher="mara",
        head_message="Settings: add language picker\n\nCloses #41\n",
    )


def test_gitlab_tag_push_hook_becomes_a_push_notice() -> None:
    body = fixture("gitlab_tag_push.json")
    notice = read_delivery(GITLAB, gitlab_headers("Tag Push Hook"), body, SECRET)
    assert isinstance(notice, PushNotice)
    assert (notice.ref, notice.after, notice.deleted) == (
        "refs/tags/v1.4.0",
        "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7",
        False,
    )
    assert notice.head_message is None


def test_gitlab_branch_deletion_is_detected() -> None:
    body = fixture("gitlab_push_delete.json")
    notice = read_delivery(GITLAB, gitlab_headers(), body, SECRET)
    assert isinstance(notice, PushNotice) and notice.deleted


def test_gitlab_null_checkout_sha_counts_as_deletion() -> None:
    data = json.loads(fixture("gitlab_push.json"))
    data["checkout_sha"] = None
    assert read_delivery(GITLAB, gitlab_headers(), json.dumps(data).encode(), SECRET).deleted  # type: ignore[union-attr]


def test_gitlab_delivery_id_prefers_the_idempotency_key_that_survives_retries() -> None:
    body = fixture("gitlab_push.json")
    headers = gitlab_headers(**{"Idempotency-Key": "908a6d9e", "X-Gitlab-Event-UUID": "13792a34"})
    assert read_delivery(GITLAB, headers, body, SECRET).delivery_id == "908a6d9e"  # type: ignore[union-attr]


def test_gitlab_delivery_without_id_header_is_identified_by_its_body() -> None:
    body = fixture("gitlab_push.json")
    first = read_delivery(GITLAB, gitlab_headers(), body, SECRET)
    again = read_delivery(GITLAB, gitlab_headers(), body, SECRET)
    assert first.delivery_id == again.delivery_id == "sha256:" + hashlib.sha256(body).hexdigest()  # type: ignore[union-attr]


def test_other_gitlab_events_are_ignored() -> None:
    body = json.dumps({"object_kind": "issue", "project": {"path_with_namespace": "acme/shop"}}).encode()
    notice = read_delivery(GITLAB, gitlab_headers("Issue Hook"), body, SECRET)
    assert isinstance(notice, Ignored) and notice.event == "Issue Hook"
    assert "Push Hook" in notice.reason


# --- Instep's git notice --------------------------------------------------------------------------


def test_git_notice_becomes_a_push_notice() -> None:
    headers, body = git_notice(head_message="Fix the order list")
    notice = read_delivery(GIT, headers, body, SECRET)
    assert notice == PushNotice(
        provider="git",
        delivery_id="0b5c6a1e-4d8f-4a51-9d2e-1f7b3c9a8e60",
        repository="acme/shop",
        ref="refs/heads/main",
        before="a" * 40,
        after="b" * 40,
        deleted=False,
        pusher="mara",
        head_message="Fix the order list",
    )


def test_git_notice_of_a_deleted_ref() -> None:
    headers, body = git_notice(after=ZERO, pusher=None)
    notice = read_delivery(GIT, headers, body, SECRET)
    assert isinstance(notice, PushNotice) and notice.deleted and notice.pusher is None


def test_git_notice_with_a_bad_signature_is_refused() -> None:
    headers, body = git_notice()
    with pytest.raises(BadSignature):
        read_delivery(GIT, headers, body.replace(b"refs/heads/main", b"refs/heads/prod"), SECRET)


# --- address: the repository, found before verifying and without decoding ------------------------


@pytest.mark.parametrize(
    ("provider", "headers", "body"),
    [
        ("github", github_headers(b"", secret="unknown"), fixture("github_push.json")),
        ("github", github_headers(b"", event="ping"), fixture("github_ping.json")),
        ("gitlab", gitlab_headers(token="wrong"), fixture("gitlab_push.json")),
        ("git", git_notice()[0], git_notice()[1]),
    ],
)
def test_address_reads_the_full_name_without_any_secret(provider: str, headers: dict, body: bytes) -> None:
    assert address(PROVIDERS[provider], headers, body).repository == "acme/shop"


def test_address_names_the_missing_field() -> None:
    body = json.dumps({"ref": "refs/heads/main"}).encode()
    with pytest.raises(BadRequest, match=r"payload has no `repository.full_name`"):
        address(GITHUB, github_headers(body), body)
    with pytest.raises(BadRequest, match=r"payload has no `project.path_with_namespace`"):
        address(GITLAB, gitlab_headers(), json.dumps({"project": {"id": 1}}).encode())
    with pytest.raises(BadRequest, match=r"payload has no `repository`"):
        address(GIT, git_notice()[0], json.dumps({"repository": {"full_name": "acme/shop"}}).encode())


@pytest.mark.parametrize(
    "body",
    [
        # Only the top-level object's key counts, not one nested deeper or inside a string.
        {"commits": [{"repository": {"full_name": "evil/nested"}}], "repository": {"full_name": "acme/shop"}},
        {
            "note": '{"repository": {"full_name": "evil/in-a-string"}}',
            "repository": {"full_name": "acme/shop"},
        },
        # Keys of objects nested inside `repository` do not count either.
        {"repository": {"owner": {"full_name": "evil/owner"}, "name": "shop", "full_name": "acme/shop"}},
    ],
)
def test_address_finds_the_top_level_repository_only(body: dict) -> None:
    raw = json.dumps(body).encode()
    assert address(GITHUB, github_headers(raw), raw).repository == "acme/shop"


def test_address_reads_escaped_names_and_gitlab_subgroups() -> None:
    raw = rb'{"project": {"id": 7, "path_with_namespace": "group\/sub\/shop"}}'  # `\/` as PHP writes it
    assert address(GITLAB, gitlab_headers(), raw).repository == "group/sub/shop"


def test_a_payload_naming_two_repositories_is_refused_after_verification() -> None:
    # The scan and the decoded payload must agree; only a signed body gets this far.
    body = b'{"repository": {"full_name": "acme/shop"}, "repository": {"full_name": "acme/other"},' + (
        b' "ref": "refs/heads/main", "after": "' + b"b" * 40 + b'"}'
    )
    with pytest.raises(BadRequest, match="names repository 'acme/other' in one place and 'acme/shop'"):
        read_delivery(GITHUB, github_headers(body), body, SECRET)


# --- refusals and their order: size, headers/content type, signature, JSON -------------------------


def test_oversized_payload_is_refused_before_anything_else() -> None:
    body = b"{" * (MAX_PAYLOAD_BYTES + 1)  # not JSON, no headers, no signature: size wins
    for call in (
        lambda: read_delivery(GITHUB, {}, body, SECRET),
        lambda: read_delivery(GITLAB, {}, body, SECRET),
        lambda: read_delivery(GIT, {}, body, SECRET),
        lambda: address(GITHUB, {}, body),
    ):
        with pytest.raises(PayloadTooLarge) as info:
            call()
        assert info.value.status == 413 and str(MAX_PAYLOAD_BYTES) in str(info.value)


def test_payload_at_the_limit_is_not_too_large() -> None:
    body = REPOSITORY + b'"x": "' + b" " * (MAX_PAYLOAD_BYTES - len(REPOSITORY) - 8) + b'"}'
    assert len(body) == MAX_PAYLOAD_BYTES
    with pytest.raises(BadRequest, match="no `after`"):
        read_delivery(GITHUB, github_headers(body), body, SECRET)


def test_malformed_json_is_a_bad_request_with_the_position() -> None:
    body = REPOSITORY + b'"ref": "refs/heads/main",\n "after": }'
    with pytest.raises(BadRequest, match=r"malformed JSON: Expecting value at line 2 column 11") as info:
        read_delivery(GITHUB, github_headers(body), body, SECRET)
    assert info.value.status == 400


def test_json_that_is_not_an_object_is_a_bad_request() -> None:
    with pytest.raises(BadRequest, match="list, not an object"):
        decode(b"[1, 2]", JSON)
    body = b'[{"repository": {"full_name": "acme/shop"}}]'  # not a top-level key: no repository
    with pytest.raises(BadRequest, match="payload has no `repository.full_name`"):
        read_delivery(GITHUB, github_headers(body), body, SECRET)


def test_body_that_is_not_utf8_is_a_bad_request() -> None:
    body = REPOSITORY + b'"ref": "\xff"}'
    with pytest.raises(BadRequest, match="not UTF-8"):
        read_delivery(GITHUB, github_headers(body), body, SECRET)


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", ""])
def test_wrong_content_type_is_a_bad_request(content_type: str) -> None:
    body = fixture("github_push.json")
    with pytest.raises(BadRequest, match="expected application/json or application/x-www-form-urlencoded"):
        read_delivery(GITHUB, github_headers(body, **{"Content-Type": content_type}), body, SECRET)
    with pytest.raises(BadRequest, match=r"not supported \(expected application/json\)"):
        read_delivery(
            GITLAB, gitlab_headers(**{"Content-Type": content_type}), fixture("gitlab_push.json"), SECRET
        )


def test_gitlab_does_not_send_forms() -> None:
    body = urlencode({"payload": fixture("gitlab_push.json").decode()}).encode()
    with pytest.raises(BadRequest, match="content type"):
        read_delivery(
            GITLAB, gitlab_headers(**{"Content-Type": "application/x-www-form-urlencoded"}), body, SECRET
        )


@pytest.mark.parametrize("missing", ["X-GitHub-Event", "X-GitHub-Delivery"])
def test_missing_github_header_is_a_bad_request_naming_it(missing: str) -> None:
    body = fixture("github_push.json")
    headers = github_headers(body)
    del headers[missing]
    with pytest.raises(BadRequest, match=f"missing header {missing}"):
        read_delivery(GITHUB, headers, body, SECRET)


@pytest.mark.parametrize("missing", ["X-Instep-Event", "X-Instep-Delivery"])
def test_missing_git_header_is_a_bad_request_naming_it(missing: str) -> None:
    headers, body = git_notice()
    del headers[missing]
    with pytest.raises(BadRequest, match=f"missing header {missing}"):
        read_delivery(GIT, headers, body, SECRET)


def test_content_type_is_checked_before_the_signature() -> None:
    body = fixture("github_push.json")
    headers = github_headers(body, secret="wrong", **{"Content-Type": "text/plain"})
    with pytest.raises(BadRequest):
        read_delivery(GITHUB, headers, body, SECRET)


def test_signature_is_checked_before_the_json_is_read() -> None:
    body = REPOSITORY + b'"project": {"path_with_namespace": "acme/shop"}, not json'
    with pytest.raises(BadSignature):
        read_delivery(GITHUB, github_headers(body, secret="wrong"), body, SECRET)
    with pytest.raises(BadSignature):
        read_delivery(GITLAB, gitlab_headers(token="wrong"), body, SECRET)


@pytest.mark.parametrize(
    ("fixture_name", "field_path"),
    [("github_push.json", "after"), ("github_push.json", "ref"), ("github_push.json", "repository")],
)
def test_push_missing_a_required_field_names_it(fixture_name: str, field_path: str) -> None:
    data = json.loads(fixture(fixture_name))
    del data[field_path]
    body = json.dumps(data).encode()
    with pytest.raises(BadRequest, match=f"payload has no `{field_path}"):
        read_delivery(GITHUB, github_headers(body), body, SECRET)


def test_gitlab_push_missing_after_names_it_instead_of_guessing_a_deletion() -> None:
    data = json.loads(fixture("gitlab_push.json"))
    del data["after"]
    with pytest.raises(BadRequest, match="payload has no `after`"):
        read_delivery(GITLAB, gitlab_headers(), json.dumps(data).encode(), SECRET)


def test_no_error_message_contains_the_secret_or_the_body() -> None:
    body = json.dumps(
        {"after": "x", "note": "private-body-content", "repository": {"full_name": "acme/shop"}}
    ).encode()
    attempts = [
        lambda: read_delivery(GITHUB, github_headers(body), body, SECRET),
        lambda: read_delivery(GITHUB, github_headers(body, secret="guess"), body, SECRET),
        lambda: read_delivery(GITLAB, gitlab_headers(token="guess"), body, SECRET),
        lambda: read_delivery(GITLAB, gitlab_headers(), b"{bad " + body, SECRET),
        lambda: read_delivery(GIT, git_notice()[0], body, SECRET),
    ]
    for attempt in attempts:
        with pytest.raises(WebhookError) as info:
            attempt()
        assert SECRET not in str(info.value) and "private-body-content" not in str(info.value)


# --- default_match_name -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/acme/shop.git",
        "https://github.com/acme/shop",
        "https://github.com/acme/shop/",
        "file:///srv/git/acme/shop.git",
        "git@github.com:acme/shop.git",
        "ssh://git@gitlab.acme.example:2222/acme/shop.git",
        "/srv/git/acme/shop.git",
        "/srv/git/acme/shop.git/",
    ],
)
def test_default_match_name_is_the_last_two_path_segments_without_dot_git(url: str) -> None:
    assert default_match_name(url) == "acme/shop"


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("https://gitlab.com/group/sub/shop.git", "group/sub/shop"),
        ("https://gitlab.com/group/sub/deeper/shop", "group/sub/deeper/shop"),
        ("git@gitlab.com:group/sub/shop.git", "group/sub/shop"),
        ("ssh://git@gitlab.acme.example:2222/group/sub/shop.git", "group/sub/shop"),
        ("https://oauth2:glpat-s3cret@gitlab.com/group/sub/shop.git", "group/sub/shop"),
        # A local repository keeps the last two segments, whatever directories hold it.
        ("file:///srv/git/group/sub/shop.git", "sub/shop"),
        ("/srv/git/group/sub/shop.git", "sub/shop"),
    ],
)
def test_default_match_name_of_a_server_url_is_its_whole_path(url: str, match: str) -> None:
    assert default_match_name(url) == match


def test_gitlab_subgroup_push_reaches_the_project_matching_the_whole_path() -> None:
    data = json.loads(fixture("gitlab_push.json"))
    data["project"]["path_with_namespace"] = "group/sub/shop"
    body = json.dumps(data).encode()
    assert address(GITLAB, gitlab_headers(), body).repository == "group/sub/shop"
    notice = read_delivery(GITLAB, gitlab_headers(), body, SECRET)
    assert isinstance(notice, PushNotice) and notice.repository == "group/sub/shop"


@pytest.mark.parametrize("url", ["shop.git", "https://github.com/shop", "git@github.com:shop.git", "", "/"])
def test_default_match_name_needs_two_segments(url: str) -> None:
    with pytest.raises(ValueError, match="fewer than two path segments"):
        default_match_name(url)
