"""Browser tests: Playwright drives Debian's chromium package against pytest-django's live server.

`playwright install` cannot download browsers here, so we launch the system chromium by path.
"""

import os
import shutil

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.factories import DEFAULT_PASSWORD

# Playwright's sync API runs an event loop in the test thread; the ORM calls we make from the test
# body (factories, assertions) are still synchronous, which is what this switch acknowledges.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Assertions wait up to 15 s (Playwright's default is 5 s), like actions do below: on a busy 2-CPU machine
# an htmx round trip can take longer than 5 s without anything being wrong.
expect.set_options(timeout=15_000)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path():
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Debian's chromium is missing: `make test` installs it (or apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, settings):
    settings.AXES_ENABLED = False
    context = browser.new_context(
        base_url=live_server.url, locale="pt-BR", viewport={"width": 1366, "height": 900}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def login(page):
    """Signs in through the real login form: login(user) → page on the dashboard."""

    def do_login(user, password=DEFAULT_PASSWORD):
        page.goto("/conta/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url("**/")
        return page

    return do_login


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
