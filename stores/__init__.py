"""Stores: Google Play (androidpublisher v3) and App Store Connect behind one interface (`Store`),
store errors mapped to five categories (`StoreError`), typed results, and — in `stores.simulator` —
a loopback simulator that checks every request against the stores' official API descriptions.
Imports nothing from the rest of Instep: credentials, URLs, clocks and transports come in as arguments."""

from stores.app_store import AppStoreConnect
from stores.app_store_auth import AppStoreKey
from stores.base import (
    Candidate,
    ErrorCategory,
    ReviewState,
    Rollout,
    RolloutState,
    Store,
    StoreError,
    Submission,
    TrackRelease,
)
from stores.factory import STORES, create_store
from stores.google_play import GooglePlay

__all__ = [
    "STORES",
    "AppStoreConnect",
    "AppStoreKey",
    "Candidate",
    "ErrorCategory",
    "GooglePlay",
    "ReviewState",
    "Rollout",
    "RolloutState",
    "Store",
    "StoreError",
    "Submission",
    "TrackRelease",
    "create_store",
]
