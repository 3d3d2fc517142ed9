import pytest
from playwright.sync_api import expect

from comments.captcha import refill_pool

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium: nothing here downloads a browser of its own."""
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def live_server(live_server):
    """pytest-django's, whose in-memory SQLite connection stays shared with the server's
    threads until the process ends: stopping the server at the end of the session stopped
    sharing it while the threads of the browser's kept-alive connections were still
    closing theirs, each raising "DatabaseWrapper objects created in a thread can only be
    used in that same thread" (PytestUnhandledThreadExceptionWarning, blamed on the last
    test). Closing an in-memory SQLite connection does nothing, so sharing it longer is
    harmless."""
    yield live_server
    for connection in live_server.thread.connections_override.values():
        connection.inc_thread_sharing()  # pytest-django's own teardown, next, takes it back


@pytest.fixture(scope="session", autouse=True)
def _patient_assertions():
    """CI shares two cores between the live server, Chromium and a parallel test process:
    give `expect(...)` assertions 15 s instead of 5 s before they call a page broken."""
    expect.set_options(timeout=15_000)


@pytest.fixture
def commenting(settings):
    """A browser's reader may send the form as soon as it is filled in (no minimum time
    to write), and the captcha pool has questions to show."""
    settings.COMMENTS_MIN_SUBMIT_SECONDS = 0
    refill_pool(10)


@pytest.fixture
def page_without_javascript(browser):
    """A page in a browser context of its own with JavaScript off: the forms' plain path."""
    context = browser.new_context(java_script_enabled=False)
    yield context.new_page()
    context.close()


@pytest.fixture
def screenshot_dir(pytestconfig):
    path = pytestconfig.rootpath / "test-results" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path
