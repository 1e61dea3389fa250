"""Real-browser fixtures: the app served on a free loopback port, driven by Playwright in Debian's Chromium."""
from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, drop_app_database, make_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture
def live_app(tmp_path, template_db, data_dir):
    return make_app(tmp_path, template_db, data_dir)


@contextmanager
def served(app):
    """Serve ``app`` on a free loopback port in a background thread; yields its base URL, then drops its database."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        drop_app_database(app)


@pytest.fixture
def live_server(live_app):
    """Base URL of the app served in a background thread for the duration of one test."""
    with served(live_app) as url:
        yield url


@pytest.fixture(scope="session")
def chromium():
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make browser-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class BrowserPage:
    """A fresh page that records console errors, failed requests and any request leaving loopback."""

    def __init__(self, browser, base_url):
        self.context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="vi-VN")
        self.page = self.context.new_page()
        self.base_url = base_url
        self.console_errors: list[str] = []
        self.external_requests: list[str] = []
        self.page.on("console", lambda msg: msg.type == "error" and self.console_errors.append(msg.text))
        self.page.on("pageerror", lambda exc: self.console_errors.append(str(exc)))
        self.page.on("request", self._on_request)

    def _on_request(self, request):
        url = request.url
        if not (url.startswith(self.base_url) or url.startswith(("data:", "blob:", "about:"))):
            self.external_requests.append(url)

    def login(self, username: str):
        self.page.goto(f"{self.base_url}/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state("networkidle")
        return self.page

    def close(self):
        self.context.close()


@pytest.fixture
def browser_page(chromium, live_server):
    page = BrowserPage(chromium, live_server)
    yield page
    page.close()


def wait_until(page, expression: str, timeout: float = 30.0) -> None:
    """Poll ``expression`` (a JavaScript function source) until it returns true.

    Playwright's ``wait_for_function`` compiles its predicate inside the page, which the app's
    ``script-src 'self'`` policy refuses (no eval); ``page.evaluate`` runs through the DevTools protocol instead.
    """
    import time

    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout:.0f} s: {expression}")
        page.wait_for_timeout(100)
