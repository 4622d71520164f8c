"""The whole loop with a real worker: a wrong category, a staff correction, and the next similar
photo right, while the same worker process keeps running and the index file stays as it was (the
correction reached the worker as a change, not as a rewritten file)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import Category, Listing
from tests.celery_support import wait_until_settled
from tests.photos import grocery_upload, near_duplicate
from vision.index import read_manifest

pytestmark = pytest.mark.django_db(transaction=True)

GOLDEN = "Fruit > Apple > Golden-Delicious"  # a leaf the small catalogue has no reference of


@pytest.fixture
def whole_photos(settings):
    """Segmentation off (for the worker too, which is started after this): one item per photo."""
    settings.CATALOG_SEGMENTER = ""


def test_a_correction_teaches_the_running_worker(whole_photos, celery_worker, imported_catalogue, owner_client,
                                                 staff_client, settings):
    process, log = celery_worker
    index_file = read_manifest(settings.CATALOG_INDEX_PATH)["version"]
    first = _upload(owner_client, "Golden apples", grocery_upload("Fruit/Apple/Golden-Delicious"))
    wrong = first.items.get()
    assert wrong.category.path != GOLDEN, _worker_log(log)

    Category.objects.get_or_create_path(GOLDEN.split(" > "))
    staff_client.post(f"/review/items/{wrong.uuid}/correct", {"category": GOLDEN})
    second = _upload(owner_client, "More golden apples", _near_duplicate("Fruit/Apple/Golden-Delicious"))

    assert second.items.get().category.path == GOLDEN, _worker_log(log)
    assert second.index_version != first.index_version and process.poll() is None
    assert read_manifest(settings.CATALOG_INDEX_PATH)["version"] == index_file
    assert second.index_version.startswith(index_file + "@")


def _upload(client, title, upload):
    client.post("/listings/new/", {"title": title, "photos": [upload]})
    listing = Listing.objects.get(title=title)
    wait_until_settled(listing)
    return listing.photos.get()


def _near_duplicate(leaf):
    return SimpleUploadedFile("again.jpg", near_duplicate(leaf), content_type="image/jpeg")


def _worker_log(log):
    log.seek(0)
    return log.read()[-3000:]
