"""The artifact store on a local path and on S3 (moto's server on 127.0.0.1, through boto3)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from orchestrator.artifacts import ArtifactError, LocalArtifactStore, S3ArtifactStore, store_from_setting
from tests.integration.harness import free_port


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def s3_client(endpoint: str):  # type: ignore[no-untyped-def]
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def roundtrip(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    big = tmp_path / "app.aab"
    big.write_bytes(b"\x00\x01" * 1_500_000)  # spans several read chunks
    size, sha = store.put_file("runs/1/jobs/2/files/app.aab", big)
    assert size == 3_000_000 and len(sha) == 64
    assert b"".join(store.open("runs/1/jobs/2/files/app.aab")) == big.read_bytes()
    store.put_bytes("runs/1/jobs/2/log.txt", b"hello\n")
    assert store.get("runs/1/jobs/2/log.txt") == b"hello\n"
    assert store.exists("runs/1/jobs/2/log.txt") and not store.exists("runs/1/jobs/2/nope.txt")
    with pytest.raises(ArtifactError, match="nope.txt"):
        store.get("runs/1/jobs/2/nope.txt")
    for bad in ("../etc/passwd", "/abs/path", "a//b", "a\\\\b", ""):
        with pytest.raises(ArtifactError, match="relative path"):
            store.put_bytes(bad, b"x")


def test_local_store(tmp_path: Path) -> None:
    roundtrip(LocalArtifactStore(tmp_path / "artifacts"), tmp_path)
    assert not list((tmp_path / "artifacts").rglob("*.part")), "uploads are atomic"


@pytest.mark.integration
def test_s3_store_against_moto_server(tmp_path: Path, s3_endpoint: str) -> None:
    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket="instep-artifacts")
    store = store_from_setting("s3://instep-artifacts/ci/prefix", s3_client=client)
    assert isinstance(store, S3ArtifactStore)
    roundtrip(store, tmp_path)
    keys = [o["Key"] for o in client.list_objects_v2(Bucket="instep-artifacts")["Contents"]]
    assert "ci/prefix/runs/1/jobs/2/files/app.aab" in keys
    meta = client.head_object(Bucket="instep-artifacts", Key="ci/prefix/runs/1/jobs/2/files/app.aab")[
        "Metadata"
    ]
    assert len(meta["sha256"]) == 64


def test_bad_s3_setting_is_refused() -> None:
    with pytest.raises(ArtifactError, match="names no bucket"):
        store_from_setting("s3:///prefix", s3_client=object())
