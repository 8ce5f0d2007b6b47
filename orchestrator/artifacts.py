"""The artifact store: job logs, build outputs and screenshots, on a local path or in S3."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

CHUNK = 1024 * 1024


class ArtifactError(Exception):
    """An artifact could not be stored or read; the message names the key."""


def validate_key(key: str) -> str:
    """Keys are relative POSIX paths; anything that could escape the store is refused."""
    path = PurePosixPath(key)
    if not key or path.is_absolute() or any(part in ("..", "") for part in key.split("/")) or "\\" in key:
        raise ArtifactError(f"artifact key {key!r} is not a relative path without '..'")
    return key


def file_digest(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


class ArtifactStore(Protocol):
    def put_file(self, key: str, path: Path) -> tuple[int, str]: ...
    def put_bytes(self, key: str, data: bytes) -> None: ...
    def open(self, key: str) -> Iterator[bytes]: ...
    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...


class LocalArtifactStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / validate_key(key)

    def put_file(self, key: str, path: Path) -> tuple[int, str]:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        shutil.copyfile(path, tmp)
        tmp.replace(target)
        return file_digest(target)

    def put_bytes(self, key: str, data: bytes) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(target)

    def open(self, key: str) -> Iterator[bytes]:
        path = self._path(key)
        if not path.is_file():
            raise ArtifactError(f"artifact {key!r} is not in the store at {self.root}")

        def chunks() -> Iterator[bytes]:
            with path.open("rb") as f:
                while chunk := f.read(CHUNK):
                    yield chunk

        return chunks()

    def get(self, key: str) -> bytes:
        return b"".join(self.open(key))

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


class S3ArtifactStore:
    """Artifacts in `s3://bucket/prefix`; the boto3 client is injected (tests point it at moto)."""

    def __init__(self, bucket: str, prefix: str, client: Any) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client

    def _key(self, key: str) -> str:
        validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put_file(self, key: str, path: Path) -> tuple[int, str]:
        size, sha = file_digest(path)
        self.client.upload_file(
            str(path), self.bucket, self._key(key), ExtraArgs={"Metadata": {"sha256": sha}}
        )
        return size, sha

    def put_bytes(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def open(self, key: str) -> Iterator[bytes]:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except self.client.exceptions.NoSuchKey as exc:
            raise ArtifactError(f"artifact {key!r} is not in s3://{self.bucket}/{self.prefix}") from exc
        return iter(lambda: body.read(CHUNK), b"")

    def get(self, key: str) -> bytes:
        return b"".join(self.open(key))

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True


def store_from_setting(value: str, s3_client: Any | None = None) -> ArtifactStore:
    """`INSTEP_ARTIFACTS` is a local path or `s3://bucket/prefix`."""
    if value.startswith("s3://"):
        bucket, _, prefix = value[len("s3://") :].partition("/")
        if not bucket:
            raise ArtifactError(f"INSTEP_ARTIFACTS={value!r} names no bucket (expected s3://bucket/prefix)")
        if s3_client is None:
            import boto3

            s3_client = boto3.client("s3")
        return S3ArtifactStore(bucket, prefix, s3_client)
    return LocalArtifactStore(Path(value).expanduser())
