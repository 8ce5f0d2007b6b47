"""Shared steps for the sample app's acceptance tests."""

from sample_shop import app_url, shop, signed_in  # noqa: F401 - fixtures for this suite
