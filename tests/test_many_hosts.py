"""Many hosts without a shared disk: the web server and two workers as separate processes, each
with its own empty scratch folder and no media or index path shared with another, their files in
a private SeaweedFS S3 endpoint, beside a private PostgreSQL and Redis (tests/stack.py).

Photos are categorized whole (no segmenter): one item each, so that a correction's effect on the
next photo is that photo's one answer."""

import re
import time
from pathlib import Path

import pytest
import requests

from tests.photos import copy_small_catalogue, grocery_images, near_duplicate, photos_beyond_small_catalogue
from tests.stack import Stack

PHOTOS = 40
REFERENCES = 8  # per leaf
RECOVERY_SECONDS = 300
GOLDEN = "Fruit > Apple > Golden-Delicious"  # a leaf the small catalogue has no reference of
GOLDEN_LEAF = "Fruit/Apple/Golden-Delicious"
STAFF = ("stella", "a-long-password-3")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    catalogue = copy_small_catalogue(tmp_path_factory.mktemp("hosts") / "reference", "train", REFERENCES)
    with Stack(catalogue, workers=2, storage="s3", env={"CATALOG_SEGMENTER": ""}) as running:
        yield running


def test_forty_photos_end_done_with_heatmaps_while_a_worker_is_killed(stack, chromium):
    listings = [_upload(stack, f"Photo {number}", photo)
                for number, photo in enumerate(photos_beyond_small_catalogue(PHOTOS, REFERENCES))]
    _wait_for(lambda: sum(_statuses(stack, listings), []).count("done") >= 5, 120, "no photo was categorized")
    stack.kill_worker(1)  # mid-batch: most photos are still to come
    stack.start_worker(1)  # a fresh host: an empty scratch folder, the index from the storage
    assert stack.wait_until_settled(RECOVERY_SECONDS, listings), _logs(stack)
    assert all(photos == ["done"] for photos in _statuses(stack, listings)), _logs(stack)

    photos = [_photo(stack, uuid) for uuid in listings]
    heatmaps = [item["heatmap_url"] for photo in photos for item in photo["items"]]
    assert len(heatmaps) == PHOTOS and all(heatmaps), photos
    assert _heatmaps_shown(stack, listings, chromium) == PHOTOS
    # Nothing was written to any host's disk but its index copy: every file went to the bucket.
    scratch = [path for path in Path(stack.root).glob("*-*/media") if any(path.rglob("*"))]
    assert not scratch
    copies = list(Path(stack.root).glob("worker*-*/index/reference.npz"))
    assert len(copies) == 3  # both workers, and the one started again, fetched the snapshot


def test_a_staff_correction_reaches_either_worker_within_5_seconds(stack):
    stack.manage("shell", "-c", "from django.contrib.auth import get_user_model; "
                                "from catalog.models import Category; "
                                f"get_user_model().objects.create_user('{STAFF[0]}', password='{STAFF[1]}', "
                                f"is_staff=True); Category.objects.get_or_create_path({GOLDEN.split(' > ')!r})")
    wrong = _categorized(stack, "Golden apples", Path(grocery_images("val", GOLDEN_LEAF, 1)[0]).read_bytes())
    assert wrong["category"] != GOLDEN

    received = [_photos_received(stack, number) for number in (0, 1)]
    corrected = _correct(stack, wrong["uuid"], GOLDEN)
    # Both workers wait for photos: one each (the one that has waited longer is handed the next).
    again = [_upload(stack, f"More golden apples {number}", ("again.jpg", near_duplicate(GOLDEN_LEAF), "image/jpeg"))
             for number in (0, 1)]
    assert stack.wait_until_settled(5 - (time.monotonic() - corrected), again), _logs(stack)
    assert [_photo(stack, listing)["items"][0]["category"] for listing in again] == [GOLDEN, GOLDEN], _logs(stack)
    assert [_photos_received(stack, number) - received[number] for number in (0, 1)] == [1, 1], _logs(stack)


def test_storage_down_for_30_seconds(stack):
    listings = [_upload(stack, f"In flight {number}", photo)
                for number, photo in enumerate(photos_beyond_small_catalogue(4, REFERENCES))]
    stack.stop_storage()
    try:
        refused, _ = stack.upload("During the outage", photos_beyond_small_catalogue(1, REFERENCES))
        assert refused.status_code == 503 and int(refused.headers["Retry-After"]) > 0, refused.text
        assert not _listings_titled(stack, "During the outage")  # nothing half-made
        health = requests.get(f"{stack.url}/health", timeout=30)
        assert health.status_code == 503 and health.json()["checks"]["storage"].startswith("failing")
        time.sleep(30)
    finally:
        stack.start_storage()
    assert stack.wait_until_settled(RECOVERY_SECONDS, listings), _logs(stack)
    assert all(photos == ["done"] for photos in _statuses(stack, listings)), _logs(stack)
    assert requests.get(f"{stack.url}/health", timeout=30).status_code == 200


# --- helpers

def _upload(stack, title, photo):
    response, _ = stack.upload(title, [photo])
    assert response is not None and response.status_code == 201, response and response.text
    return response.json()["uuid"]


def _statuses(stack, listings):
    found = stack.photo_statuses(listings)
    return [found[uuid] for uuid in listings]


def _photo(stack, listing):
    response = requests.get(f"{stack.url}/api/v1/listings/{listing}/", headers=_token(stack), timeout=30)
    response.raise_for_status()
    return response.json()["photos"][0]


def _categorized(stack, title, data):
    """The one item of a new listing's photo, once categorized."""
    listing = _upload(stack, title, ("photo.jpg", data, "image/jpeg"))
    assert stack.wait_until_settled(60, [listing]), _logs(stack)
    return _photo(stack, listing)["items"][0]


def _correct(stack, item, category):
    """Staff's correction through the review page; the time it was answered."""
    session = requests.Session()
    login = session.get(f"{stack.url}/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
    session.post(f"{stack.url}/login/", data={"username": STAFF[0], "password": STAFF[1],
                                              "csrfmiddlewaretoken": token}, timeout=30).raise_for_status()
    answer = session.post(f"{stack.url}/review/items/{item}/correct", data={"category": category},
                          headers={"X-CSRFToken": session.cookies["csrftoken"], "Referer": f"{stack.url}/review/"},
                          timeout=30)
    answer.raise_for_status()
    assert "it is a reference of it from now on" in answer.text, answer.text[-2000:]
    return time.monotonic()


def _heatmaps_shown(stack, listings, chromium):
    """How many heatmaps the listing pages show in a real browser (each image loaded)."""
    shown = 0
    context = chromium.new_context()
    page = context.new_page()
    page.goto(f"{stack.url}/login/")
    page.get_by_label("Username").fill("soak")
    page.get_by_label(re.compile(r"^Password:?$")).fill("a-long-password-1")
    page.get_by_role("button", name=re.compile("log in", re.I)).click()
    page.wait_for_url(re.compile(r"/$"))
    for listing in listings:
        page.goto(f"{stack.url}/listings/{listing}/")
        page.get_by_label("Show what the model looked at").check()
        shown += page.evaluate("""async () => {
            const widths = await Promise.all([...document.querySelectorAll('image.heat')].map(heat =>
                new Promise(done => { const image = new Image(); image.onload = () => done(image.naturalWidth);
                                      image.onerror = () => done(0); image.src = heat.href.baseVal; })));
            return widths.filter(width => width > 0).length; }""")
    context.close()
    return shown


def _photos_received(stack, number):
    """How many photo tasks worker `number` has been handed so far (its log, all its lives)."""
    log = (Path(stack.root) / f"worker{number}.log").read_text(errors="replace")
    return len(re.findall(r"categorize_photo\[[^]]+\] received", log))


def _listings_titled(stack, title):
    import psycopg

    with psycopg.connect(stack.database_url) as connection:
        return connection.execute("SELECT id FROM catalog_listing WHERE title = %s", [title]).fetchall()


def _token(stack):
    return {"Authorization": f"Token {stack.token}"}


def _wait_for(condition, seconds, why):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, why
        time.sleep(0.2)


def _logs(stack):
    return "\n".join(f"--- {name}\n{stack.log(name)}" for name in ("web", "worker0", "worker1", "sweeper", "storage"))
