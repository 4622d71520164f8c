"""Browser tests: a real Chromium (Debian's, bin/browser) driven by Playwright against the app served
by pytest-django's live server, with photos categorized as in the embedded mode of bin/run (on the
web process's background thread, worker.embedded). Each flow leaves screenshots in
test-artifacts/screenshots (CATALOG_TEST_ARTIFACTS)."""

import os
import re
from pathlib import Path

import pytest
from django.db import connection

from worker import embedded

REPO = Path(__file__).resolve().parent.parent.parent
ARTIFACTS = Path(os.environ.get("CATALOG_TEST_ARTIFACTS", REPO / "test-artifacts"))
PASSWORD = "a-long-password-1"
PHONE = {"width": 390, "height": 844}
# Long enough for a photo's categorization on a busy 2-core machine (models loaded the first time).
SETTLE_MS = 120_000



@pytest.fixture
def served(live_server, settings):
    """The live server's address, categorizing photos in the background as bin/run does; the
    background thread has finished by the end of the test."""
    if connection.vendor != "postgresql":
        pytest.skip("needs the PostgreSQL test database (bin/test sets it up)")
    settings.CATALOG_EMBEDDED_TASKS = "background"
    yield live_server.url
    assert embedded.wait_idle(SETTLE_MS / 1000), "the background tasks did not finish"


@pytest.fixture
def browser_context(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    yield context
    context.close()


@pytest.fixture
def page(browser_context):
    return browser_context.new_page()


@pytest.fixture
def screenshot(request):
    """screenshot(page, step): a full-page PNG named for the test and the step."""
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    test_name = re.sub(r"\W+", "-", request.node.name).strip("-")

    def take(page, step):
        path = folder / f"{test_name}--{step}.png"
        page.wait_for_load_state("networkidle")  # the page's images are in
        page.screenshot(path=str(path), full_page=True)
        return path
    return take


def log_in(page, base_url, user, password=PASSWORD):
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label(re.compile(r"^Password:?$")).fill(password)
    page.get_by_role("button", name=re.compile("log in", re.I)).click()
    page.wait_for_url(re.compile(r"/$"))


def listing_of(seller, title, *photo_paths):
    """A listing made as the upload form makes it; its photos are categorized in the background
    (wait with worker.embedded.wait_idle)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from catalog.listings import create_listing
    from catalog.photos import check_photo

    uploads = [SimpleUploadedFile(Path(path).name, Path(path).read_bytes()) for path in photo_paths]
    return create_listing(seller, title, [check_photo(upload) for upload in uploads])
