"""Store adapters by name, and the leaf rule: stores/ imports nothing else of Instep."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import stores
from stores import AppStoreConnect, ErrorCategory, GooglePlay, StoreError, create_store

OTHER_PACKAGES = {"orchestrator", "lanes", "device_farm", "screenshots", "dashboard"}


def test_google_play_by_name_submits_to_the_simulator(sim, aab):
    store = create_store("google_play", {"package_name": "dev.instep.sample", "root_url": sim.url},
                         sim.credentials()["google_play"])  # fmt: skip
    assert isinstance(store, GooglePlay) and store.track == "production"
    store.submit(aab(3))
    assert sim.operations("google_play")[-1] == "androidpublisher.edits.commit"


def test_app_store_by_name():
    credentials = {"key_id": "ABC", "issuer_id": "issuer", "private_key": "-----BEGIN PRIVATE KEY-----"}
    store = create_store("app_store", {"app_id": 6444000001, "base_url": "http://127.0.0.1:9"}, credentials)
    assert isinstance(store, AppStoreConnect) and store.app_id == "6444000001" and store.platform == "IOS"


def test_unknown_store_and_missing_settings_are_named():
    with pytest.raises(StoreError) as unknown:
        create_store("huawei", {}, {})
    assert unknown.value.category is ErrorCategory.INVALID
    assert "use one of google_play, app_store" in str(unknown.value)
    with pytest.raises(StoreError) as missing:
        create_store("app_store", {}, {"key_id": "A", "issuer_id": "B", "private_key": "C"})
    assert "the app_store settings need `app_id`" in str(missing.value)


def test_stores_is_a_leaf_package():
    root = Path(stores.__file__).parent
    for module in root.rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in OTHER_PACKAGES, f"{module} imports {name}"
