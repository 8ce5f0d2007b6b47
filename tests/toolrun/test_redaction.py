"""Secrets never reach a job log: multi-line secrets, encoded forms, and secrets that cross the
point where an over-long line is split; short values are refused as secrets."""

from __future__ import annotations

import base64
import json
import os
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolrun.process import MAX_LINE_BYTES, run_process
from toolrun.redaction import MASK, Redactor, SecretTooShort, check_secret

PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgevZzL1gdAFr88hb2\n"
    "OF/2NxApJCzGCEDdfSp6VQO30hyhRANCAAQRWz+jn65BtOMvdyHKcvjBeBSDZH2r\n"
    "1RTwjmYSi9R/zpBnuQ4EiMnCqfMPWiZqB4QdbAd0E7oH50VpuZ1P087G\n"
    "-----END PRIVATE KEY-----\n"
)
SERVICE_ACCOUNT = json.dumps(
    {"type": "service_account", "private_key_id": "0f3c9a8b7e6d5c4b3a2f1e0d", "private_key": PEM},
    indent=2,
)


def _env() -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "LANG": "C.UTF-8"}


def _printed(tmp_path: Path, data: bytes, secrets: list[str]) -> list[str]:
    (tmp_path / "out.bin").write_bytes(data)
    lines: list[str] = []
    result = run_process(
        [sys.executable, "-c", "import sys; sys.stdout.buffer.write(open('out.bin','rb').read())"],
        cwd=tmp_path,
        env=_env(),
        on_line=lines.append,
        redactor=Redactor(secrets),
    )
    assert result.ok
    return lines


def test_every_line_of_a_multi_line_secret_is_masked_when_printed_line_by_line(tmp_path: Path) -> None:
    lines = _printed(tmp_path, f"key file:\n{PEM}done\n".encode(), [PEM])
    log = "\n".join(lines)
    for secret_line in PEM.splitlines():
        assert secret_line not in log
    assert lines[0] == "key file:" and lines[-1] == "done"
    assert lines[1:-1] == [MASK] * len(PEM.splitlines())


def test_a_service_account_json_printed_pretty_leaks_no_key_material(tmp_path: Path) -> None:
    lines = _printed(tmp_path, (SERVICE_ACCOUNT + "\n").encode(), [SERVICE_ACCOUNT])
    log = "\n".join(lines)
    assert "0f3c9a8b7e6d5c4b3a2f1e0d" not in log
    # json.dumps escapes the PEM's newlines, so the key is one long line: still masked.
    assert "MIGHAgEAMBMGByqGSM49" not in log


def test_a_secret_crossing_the_line_split_is_masked_whole(tmp_path: Path) -> None:
    secret = "tok-" + "x1y2z3" * 5
    for shift in range(0, len(secret), 7):
        filler = "a" * (MAX_LINE_BYTES - shift)
        lines = _printed(tmp_path, f"{filler}{secret} end\n".encode(), [secret])
        joined = "".join(lines)
        assert secret[:10] not in joined and secret[-10:] not in joined, shift
        assert joined == filler + MASK + " end"


def test_a_multibyte_character_on_the_split_is_not_mangled(tmp_path: Path) -> None:
    text = "a" * (MAX_LINE_BYTES - 1) + "é" + "b" * 10
    lines = _printed(tmp_path, (text + "\n").encode(), ["unrelated-secret"])
    assert "".join(lines) == text


@pytest.mark.parametrize("prefix", ["", "u", "us", "user:", "ci-bot:"])
def test_base64_forms_are_masked_also_inside_longer_base64(tmp_path: Path, prefix: str) -> None:
    secret = "s3cr3t-deploy-password"
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        header = "Authorization: Basic " + encode((prefix + secret).encode()).decode()
        lines = _printed(tmp_path, (header + "\n").encode(), [secret])
        assert MASK in lines[0], (prefix, lines[0])
        masked = lines[0].removeprefix("Authorization: Basic ")
        assert len(masked) < len(header) - 20


def test_url_encoded_forms_are_masked(tmp_path: Path) -> None:
    secret = "p@ss word/with&chars"
    text = f"https://host/?token={quote(secret, safe='')}\nform={quote_plus(secret)}\n"
    lines = _printed(tmp_path, text.encode(), [secret])
    assert lines == ["https://host/?token=" + MASK, "form=" + MASK]


def test_secrets_shorter_than_six_characters_are_refused_with_the_reason() -> None:
    with pytest.raises(SecretTooShort, match=r"secret 'PIN' is 3 characters long; .* at least 6"):
        check_secret("PIN", "abc")
    check_secret("TOKEN", "abcdef")
    assert Redactor(["abc"])("abc abc") == "abc abc"  # never half-masks ordinary words


@settings(max_examples=200, deadline=None)
@given(
    secret=st.text(
        st.characters(min_codepoint=33, max_codepoint=0x2FF, exclude_characters="*"), min_size=6, max_size=40
    ),
    before=st.text(max_size=30),
    after=st.text(max_size=30),
)
def test_the_secret_never_survives_in_plain_text(secret: str, before: str, after: str) -> None:
    out = Redactor([secret])(before + secret + after)
    assert secret not in out
    assert MASK in out
