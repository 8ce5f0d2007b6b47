"""Device profiles and backends, leases, the Appium server lifecycle, the acceptance-suite
runner, duration-based sharding and flaky-test retries."""
