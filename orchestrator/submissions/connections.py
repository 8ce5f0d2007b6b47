"""The store adapter of a release platform, built from the release's `release.store:` policy and
the project's store credentials; and the candidate as the stores know it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orchestrator.spec.release import ReleaseSpec
from stores import Candidate, Store, StoreError, create_store

PLATFORM_STORES = {"android": "google_play", "ios": "app_store"}
STORE_TITLES = {"google_play": "Google Play", "app_store": "App Store Connect"}
SECRET_HELP = "set it with `PUT /api/projects/NAME/secrets` (or `instep project add --secret`)"


class StoreUnavailable(Exception):
    """The release cannot reach its store (no settings, no credentials); the message says what
    to add and where."""


def store_name(platform: str) -> str:
    try:
        return PLATFORM_STORES[platform]
    except KeyError:
        raise StoreUnavailable(
            f"platform {platform!r} has no store adapter (expected android or ios, or give the "
            "submit stage your own submission `lane:`)"
        ) from None


def _secret(credentials: Mapping[str, str], name: str, store: str) -> str:
    value = credentials.get(name)
    if not value:
        raise StoreUnavailable(f"{STORE_TITLES[store]} needs the project secret {name}; {SECRET_HELP}")
    return value


def store_settings(policy: ReleaseSpec, store: str) -> dict[str, Any]:
    settings = policy.store
    section = getattr(settings, store, None) if settings is not None else None
    if section is None:
        key = "package_name: com.example.app" if store == "google_play" else 'app_id: "1234567890"'
        raise StoreUnavailable(
            f"instep.yml has no `release.store.{store}` section, so Instep does not know where to "
            f"submit (add `release: {{store: {{{store}: {{{key}}}}}}}`)"
        )
    out: dict[str, Any] = section.model_dump()
    if store == "google_play":
        out["root_url"] = settings.base_url + "/" if settings and settings.base_url else None
    else:
        out["base_url"] = settings.base_url if settings else None
    return out


def connect(policy: ReleaseSpec, platform: str, credentials: Mapping[str, str]) -> Store:
    """The adapter for `platform`'s store; raises StoreUnavailable or StoreError (invalid)."""
    store = store_name(platform)
    settings = store_settings(policy, store)
    if store == "google_play":
        text = _secret(credentials, "PLAY_SERVICE_ACCOUNT_JSON", store)
        try:
            account = json.loads(text)
        except ValueError:
            raise StoreUnavailable(
                "the project secret PLAY_SERVICE_ACCOUNT_JSON is not JSON (expected the service "
                "account's key file as downloaded from the Google Cloud console)"
            ) from None
        return create_store(store, settings, account)
    keys = {
        "key_id": _secret(credentials, "ASC_KEY_ID", store),
        "issuer_id": _secret(credentials, "ASC_ISSUER_ID", store),
        "private_key": _secret(credentials, "ASC_PRIVATE_KEY", store),
    }
    return create_store(store, settings, keys)


def candidate(version: str, build_number: int | None, artifact: Path | None = None) -> Candidate:
    if build_number is None:
        raise StoreUnavailable(
            f"release {version} has no build number, so the store cannot tell its build apart "
            "(build it in a release pipeline: Instep passes the build number to the build lane)"
        )
    return Candidate(version=version, build_number=str(build_number), artifact=artifact)


def bundle_of(files: list[dict[str, Any]]) -> dict[str, Any]:
    """The candidate's Android App Bundle."""
    bundles = [f for f in files if str(f.get("name", "")).endswith(".aab")]
    if len(bundles) != 1:
        names = ", ".join(str(f.get("name")) for f in files) or "none"
        raise StoreUnavailable(
            f"Google Play needs exactly one .aab in the release candidate, found {len(bundles)} "
            f"(candidate files: {names}); have the build stage leave the AAB in $INSTEP_ARTIFACTS_DIR"
        )
    return bundles[0]


def describe_error(exc: StoreError) -> str:
    """A store error as the one-line reason a release shows."""
    return str(exc)


__all__ = ["StoreError", "StoreUnavailable", "bundle_of", "candidate", "connect", "store_name"]
