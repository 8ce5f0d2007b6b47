"""Baselines: keyed by (project, platform, device profile, locale, screen), one set per branch
falling back to the default branch, every accepted version kept.

Layout in the blob store (until the orchestrator's database owns comparisons and reviews, a JSON
manifest per branch is the index):
    baselines/<project>/blobs/<sha256>.png                       content-addressed, never overwritten
    baselines/<project>/branches/<quoted branch>/manifest.json   {screen id: [version, ...]}
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from types import MappingProxyType
from urllib.parse import quote

from screenshots.blobstore import BlobStore

_MAX_NAME = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class InvalidName(ValueError):
    """A project, platform, device profile, locale, screen or branch name is not acceptable."""


class CorruptManifest(ValueError):
    """A stored baseline manifest cannot be read."""


def validate_name(kind: str, value: str) -> str:
    """Refuse names that could act as paths: separators, '..', control characters, empty."""
    problem = None
    if not isinstance(value, str) or not value.strip():
        problem = "is empty"
    elif "/" in value or "\\" in value:
        problem = "contains a path separator"
    elif ".." in value:
        problem = "contains '..'"
    elif value.startswith("."):
        problem = "starts with '.'"
    elif _CONTROL.search(value):
        problem = "contains a control character"
    elif len(value) > _MAX_NAME:
        problem = f"is longer than {_MAX_NAME} characters"
    if problem:
        raise InvalidName(f"{kind} name {value!r} {problem}; use a plain name such as 'pixel-8' or 'home'")
    return value


def validate_branch(branch: str) -> str:
    """Branches may contain '/' (feature/login) but not '..', control characters or a leading '/'."""
    if not isinstance(branch, str) or not branch or branch.startswith(("/", "-")) or branch.endswith("/"):
        raise InvalidName(f"branch name {branch!r} is not a valid git branch name")
    if any(part.startswith(".") or not part for part in branch.split("/")):
        raise InvalidName(f"branch name {branch!r} has an empty part or a part starting with '.'")
    if ".." in branch or "\\" in branch or _CONTROL.search(branch) or len(branch) > 255:
        raise InvalidName(f"branch name {branch!r} contains '..', '\\' or control characters")
    return branch


@dataclass(frozen=True)
class BaselineKey:
    """What a baseline is for. `screen` is the name without '.png'."""

    project: str
    platform: str
    device_profile: str
    locale: str
    screen: str

    def __post_init__(self) -> None:
        for kind in ("project", "platform", "device_profile", "locale", "screen"):
            validate_name(kind.replace("_", " "), getattr(self, kind))

    @property
    def screen_id(self) -> str:
        """The key within a project: platform/device-profile/locale/screen."""
        return f"{self.platform}/{self.device_profile}/{self.locale}/{self.screen}"

    @property
    def artifact_name(self) -> str:
        """The capture naming convention: <device-profile>/<locale>/<screen>.png."""
        return f"{self.device_profile}/{self.locale}/{self.screen}.png"

    @classmethod
    def from_artifact_name(cls, project: str, platform: str, name: str) -> BaselineKey:
        """Parse '<device-profile>/<locale>/<screen>.png' as captured by a run."""
        parts = name.split("/")
        if len(parts) != 3 or not parts[2].lower().endswith(".png"):
            raise InvalidName(f"screenshot {name!r} must be named <device-profile>/<locale>/<screen>.png")
        return cls(project, platform, parts[0], parts[1], parts[2][: -len(".png")])


@dataclass(frozen=True)
class BaselineVersion:
    """One accepted baseline. sha256 None marks a retired screen (approved as missing)."""

    version: int
    sha256: str | None
    approved_by: str
    run_id: str
    approved_at: str
    comment: str = ""

    @property
    def retired(self) -> bool:
        return self.sha256 is None


@dataclass(frozen=True)
class BranchManifest:
    """Every screen's version history on one branch, oldest first."""

    project: str
    branch: str
    entries: Mapping[str, tuple[BaselineVersion, ...]] = field(default_factory=lambda: MappingProxyType({}))

    def latest(self, screen_id: str) -> BaselineVersion | None:
        history = self.entries.get(screen_id)
        return history[-1] if history else None

    def to_json(self) -> bytes:
        body = {
            "format": 1,
            "project": self.project,
            "branch": self.branch,
            "entries": {k: [asdict(v) for v in history] for k, history in sorted(self.entries.items())},
        }
        return json.dumps(body, indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes, *, where: str) -> BranchManifest:
        try:
            body = json.loads(data)
            entries = {
                k: tuple(BaselineVersion(**v) for v in history) for k, history in body["entries"].items()
            }
            return cls(body["project"], body["branch"], MappingProxyType(entries))
        except (ValueError, KeyError, TypeError) as exc:
            raise CorruptManifest(
                f"baseline manifest {where} is unreadable ({exc}); restore it from a backup"
            ) from exc


def add_version(
    manifest: BranchManifest,
    screen_id: str,
    sha256: str | None,
    *,
    approved_by: str,
    run_id: str,
    approved_at: str,
    comment: str = "",
) -> tuple[BranchManifest, BaselineVersion, bool]:
    """Append a version (older ones stay). Approving the same image from the same run again
    returns the existing version and False, so duplicate approvals make one version."""
    history = manifest.entries.get(screen_id, ())
    if history and history[-1].sha256 == sha256 and history[-1].run_id == run_id:
        return manifest, history[-1], False
    version = BaselineVersion(len(history) + 1, sha256, approved_by, run_id, approved_at, comment)
    entries = dict(manifest.entries)
    entries[screen_id] = (*history, version)
    return replace(manifest, entries=MappingProxyType(entries)), version, True


@dataclass(frozen=True)
class ResolvedBaseline:
    """The baseline a comparison uses and the branch it came from (the default when falling back)."""

    version: BaselineVersion
    branch: str


def resolve(
    screen_id: str, branch: BranchManifest, default: BranchManifest | None
) -> ResolvedBaseline | None:
    """The branch's own latest version, else the default branch's. A screen retired on the branch
    does not fall back: it was removed on purpose."""
    own = branch.latest(screen_id)
    if own is not None:
        return None if own.retired else ResolvedBaseline(own, branch.branch)
    if default is None:
        return None
    fallback = default.latest(screen_id)
    return None if fallback is None or fallback.retired else ResolvedBaseline(fallback, default.branch)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class BaselineRepository:
    """Reads and writes baselines through a BlobStore.

    Promotions on one (project, branch) are serialised in this process. Across processes the
    caller must serialise them (the orchestrator holds a database row lock per comparison).
    """

    def __init__(
        self, store: BlobStore, *, default_branch: str = "main", clock: Callable[[], str] = _now
    ) -> None:
        self.store = store
        self.default_branch = validate_branch(default_branch)
        self._clock = clock
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def manifest(self, project: str, branch: str) -> BranchManifest:
        key = self._manifest_key(project, branch)
        if not self.store.exists(key):
            return BranchManifest(project, branch)
        return BranchManifest.from_json(self.store.get(key), where=key)

    def lookup(self, key: BaselineKey, branch: str) -> ResolvedBaseline | None:
        own = self.manifest(key.project, branch)
        default = None if branch == self.default_branch else self.manifest(key.project, self.default_branch)
        return resolve(key.screen_id, own, default)

    def baseline_set(self, project: str, platform: str, branch: str) -> dict[str, ResolvedBaseline]:
        """Every live baseline for a platform on a branch (with fallback), by artifact name."""
        own = self.manifest(project, branch)
        default = None if branch == self.default_branch else self.manifest(project, self.default_branch)
        ids = set(own.entries) | (set(default.entries) if default else set())
        found = {}
        for screen_id in sorted(ids):
            plat, device, locale, screen = screen_id.split("/")
            if plat != platform:
                continue
            resolved = resolve(screen_id, own, default)
            if resolved is not None:
                found[f"{device}/{locale}/{screen}.png"] = resolved
        return found

    def image(self, project: str, version: BaselineVersion) -> bytes:
        if version.sha256 is None:
            raise InvalidName(f"baseline version {version.version} is retired and has no image")
        return self.store.get(self._blob_key(project, version.sha256))

    def history(self, key: BaselineKey, branch: str) -> tuple[BaselineVersion, ...]:
        return self.manifest(key.project, branch).entries.get(key.screen_id, ())

    def promote(
        self,
        key: BaselineKey,
        branch: str,
        png: bytes | None,
        *,
        approved_by: str,
        run_id: str,
        comment: str = "",
    ) -> tuple[BaselineVersion, bool]:
        """Make png the branch's baseline for key (None retires the screen). Returns the version
        and whether it is new; an identical repeat approval of the same run adds nothing."""
        validate_branch(branch)
        sha = None
        if png is not None:
            sha = hashlib.sha256(png).hexdigest()
            blob = self._blob_key(key.project, sha)
            if not self.store.exists(blob):
                self.store.put(blob, png)
        with self._lock(key.project, branch):
            manifest = self.manifest(key.project, branch)
            manifest, version, created = add_version(
                manifest,
                key.screen_id,
                sha,
                approved_by=approved_by,
                run_id=run_id,
                approved_at=self._clock(),
                comment=comment,
            )
            if created:
                self.store.put(self._manifest_key(key.project, branch), manifest.to_json())
        return version, created

    def _lock(self, project: str, branch: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault((project, branch), threading.Lock())

    @staticmethod
    def _blob_key(project: str, sha256: str) -> str:
        return f"baselines/{validate_name('project', project)}/blobs/{sha256}.png"

    @staticmethod
    def _manifest_key(project: str, branch: str) -> str:
        branch_part = quote(validate_branch(branch), safe="")
        return f"baselines/{validate_name('project', project)}/branches/{branch_part}/manifest.json"
