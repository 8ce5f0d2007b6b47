"""The sample app as a user drives it, shared by the acceptance and capture suites. Instep's plugin (loaded by
`instep suite run`) provides `driver`; the app URL comes from INSTEP_APP_URL, or the app's
`www/` is served locally when the suite runs on its own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

WWW = Path(__file__).resolve().parents[2] / "www"
DEMO_EMAIL = "qa@example.com"
DEMO_PASSWORD = "instep-demo"
WAIT_S = 10


@pytest.fixture(scope="session")
def app_url() -> Iterator[str]:
    if os.environ.get("INSTEP_APP_URL"):
        yield os.environ["INSTEP_APP_URL"]
        return
    from device_farm.static_site import StaticSite

    with StaticSite(WWW) as site:
        yield site.url


class Shop:
    """The sample app as a user sees it: screens, fields and buttons by their public selectors."""

    def __init__(self, driver: Any, url: str) -> None:
        self.driver = driver
        self.url = url.rstrip("/") + "/"
        self.wait = WebDriverWait(driver, WAIT_S)

    def open(self, route: str = "#/signin") -> None:
        self.driver.get(self.url + route)
        self.wait_screen("signin" if route == "#/signin" else route.split("/")[1])

    def el(self, css: str) -> Any:
        return self.wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)))

    def wait_screen(self, name: str) -> Any:
        return self.el(f'[data-screen="{name}"]')

    def sign_in(self, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> None:
        self.el("#email").send_keys(email)
        self.el("#password").send_keys(password)
        self.el("#signin-button").click()


@pytest.fixture
def shop(driver: Any, app_url: str) -> Shop:
    s = Shop(driver, app_url)
    s.open()
    return s


@pytest.fixture
def signed_in(shop: Shop) -> Shop:
    shop.sign_in()
    shop.wait_screen("orders")
    return shop
