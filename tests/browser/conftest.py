"""Browser tests: the app served by waitress on loopback and driven by Debian's Chromium.

Every page a journey lands on goes through `Browse.arrived`, which runs axe-core with
the WCAG 2.0, 2.1 and 2.2 A and AA rules, the design checks axe cannot make (skip link
first, one h1 before the form controls, labels and hints from the design system, the
language toggle, the error prefix in the title), measures the bytes a client page
transfers and checks it loads nothing beyond the design system and the app's own files.
A test fails if any page it visited was not checked.

The database, the frozen clock and the SMTP sink are the fixtures of tests/conftest.py;
the only override is `settings`, whose base URL points at the served port so the links
in the emails open this server.
"""

from __future__ import annotations

import socket
import threading

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from waitress import create_server

from surveys.settings import Settings
from tests.browser.support import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    Browse,
    Findings,
)

FINDINGS = pytest.StashKey[Findings]()
CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


@pytest.fixture(scope="session")
def findings(request) -> Findings:
    found = Findings()
    request.config.stash[FINDINGS] = found
    yield found
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "page-weights.txt").write_text("\n".join(found.lines(detail=True)) + "\n")


def pytest_terminal_summary(terminalreporter, config):
    found = config.stash.get(FINDINGS, None)
    if found is None or not found.pages_scanned:
        return
    terminalreporter.write_sep("-", "browser accessibility and page weight")
    for line in found.lines():
        terminalreporter.write_line(line)


# --- the served app ---------------------------------------------------------------------


@pytest.fixture
def _listening_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    yield sock
    sock.close()


@pytest.fixture
def settings(database_url, smtp, _listening_socket) -> Settings:
    """As in tests/conftest.py, with links in emails pointing at the served port."""
    port = _listening_socket.getsockname()[1]
    return Settings(
        database_url=database_url,
        secret_key="browser-secret-key-" + "x" * 32,
        base_url=f"http://127.0.0.1:{port}",
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        mail_from="surveys@example.org",
        mail_retry_limit=3,
        mail_retry_base_seconds=60,
    )


@pytest.fixture
def live_server(app, settings, _listening_socket):
    """The app served by waitress (as `surveys run` serves it) in a background thread."""
    server = create_server(app, sockets=[_listening_socket], threads=4)
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    yield settings.base_url

    def stop():
        for channel in list(server._map.values()):
            channel.close()

    server.trigger.pull_trigger(stop)
    thread.join(timeout=5)
    server.task_dispatcher.shutdown(timeout=5)


# --- the browser ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Browser:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-system-deps.sh as root "
                    "(Debian's chromium package); browsers are never downloaded.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def axe() -> Axe:
    return Axe()


@pytest.fixture
def contexts(browser):
    """Make browser contexts (a fresh profile each); all are closed after the test."""
    made: list[BrowserContext] = []

    def new(viewport=DESKTOP, **options) -> BrowserContext:
        context = browser.new_context(viewport=viewport, locale="en-GB",
                                      timezone_id="Europe/London", **options)
        context.set_default_timeout(10_000)
        made.append(context)
        return context

    yield new
    for context in made:
        context.close()


@pytest.fixture
def browse(contexts, live_server, axe, findings, request):
    """Open a checked tab: `browse(viewport=PHONE, client=True, ...)` returns a Browse."""
    opened: list[Browse] = []

    def new(viewport=DESKTOP, *, client: bool = False, **options) -> Browse:
        context = contexts(viewport, **options)
        b = Browse(context.new_page(), live_server, axe, findings, request.node.name,
                   client=client, javascript=options.get("java_script_enabled", True))
        opened.append(b)
        return b

    yield new
    for b in opened:
        b.close()
    if request.node.stash.get(CALL_FAILED, True):
        return  # the failure says what went wrong; unchecked pages would only add noise
    unchecked = [url for b in opened for url in b.unchecked]
    assert not unchecked, f"pages visited without the accessibility checks: {unchecked}"


@pytest.fixture
def page(browse) -> Page:
    """A plain checked desktop tab for staff journeys."""
    return browse().page


