"""Store adapters registered by name, built from plain settings and credentials."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import httplib2
import httpx

from stores.app_store import AppStoreConnect
from stores.app_store_auth import AppStoreKey
from stores.base import ErrorCategory, Store, StoreError
from stores.google_play import GooglePlay

STORES = ("google_play", "app_store")


def _need(settings: Mapping[str, Any], key: str, store: str) -> Any:
    value = settings.get(key)
    if value in (None, ""):
        raise StoreError(
            ErrorCategory.INVALID, f"the {store} settings need `{key}`", store=store, action="configure"
        )
    return value


def create_store(
    name: str,
    settings: Mapping[str, Any],
    credentials: Mapping[str, Any],
    *,
    http: httplib2.Http | None = None,
    transport: httpx.BaseTransport | None = None,
    clock: Callable[[], float] = time.time,
) -> Store:
    """`google_play`: settings `package_name`, `track`, `root_url`, `in_app_update_priority`;
    credentials = the service-account JSON. `app_store`: settings `app_id`, `platform`, `base_url`;
    credentials `key_id`, `issuer_id`, `private_key`."""
    match name:
        case "google_play":
            return GooglePlay(
                service_account_info=credentials,
                package_name=_need(settings, "package_name", name),
                track=settings.get("track") or "production",
                root_url=settings.get("root_url"),
                in_app_update_priority=settings.get("in_app_update_priority"),
                http=http,
            )
        case "app_store":
            key = AppStoreKey(
                key_id=_need(credentials, "key_id", name),
                issuer_id=_need(credentials, "issuer_id", name),
                private_key=_need(credentials, "private_key", name),
            )
            kwargs: dict[str, Any] = {"base_url": settings["base_url"]} if settings.get("base_url") else {}
            return AppStoreConnect(
                key=key,
                app_id=str(_need(settings, "app_id", name)),
                platform=settings.get("platform") or "IOS",
                transport=transport,
                clock=clock,
                **kwargs,
            )
    raise StoreError(
        ErrorCategory.INVALID,
        f"unknown store {name!r}; use one of {', '.join(STORES)}",
        store=name,
        action="configure",
    )
