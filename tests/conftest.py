import io
import os
import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import Client
from PIL import Image

from config.storage import s3_options
from tests.photos import ECSSD, copy_small_catalogue, grocery_upload


@pytest.fixture
def small_catalogue(tmp_path):
    """(reference root, query root): Grocery train photos as references, val photos as queries."""
    return (copy_small_catalogue(tmp_path / "reference", "train", 8),
            copy_small_catalogue(tmp_path / "queries", "val", 3))


@pytest.fixture(scope="session")
def chromium():
    """One Chromium (Debian's, bin/browser) for the test run, driven by Playwright: its sync API runs an
    event loop in the test thread, so a second one could not start beside it."""
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CATALOG_TEST_BROWSER", "/usr/bin/chromium")
    # Playwright's sync API runs an event loop in the test's thread; the tests' own database calls
    # (fixtures, checks) are still synchronous ones.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not os.access(executable, os.X_OK):
        pytest.fail(f"No Chromium at {executable}: run bin/browser (as root) or the tests with bin/test.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="session", autouse=True)
def embedding_cache(tmp_path_factory):
    """One embedding cache for the test run, not the machine's: the tests reuse each other's
    reference embeddings, and never meet an install's. The workers they start are told too."""
    from django.conf import settings

    path = str(tmp_path_factory.mktemp("embedding-cache") / "embeddings.sqlite3")
    os.environ["CATALOG_EMBEDDING_CACHE"] = settings.CATALOG_EMBEDDING_CACHE = path
    return path


@pytest.fixture(autouse=True)
def isolated_storage(settings, tmp_path):
    """Each test gets its own media folder and index file."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CATALOG_INDEX_PATH = tmp_path / "index" / "reference.npz"


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("olivia", password="a-long-password-1")


@pytest.fixture
def outsider(django_user_model):
    return django_user_model.objects.create_user("oscar", password="a-long-password-2")


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("stella", password="a-long-password-3", is_staff=True)


@pytest.fixture
def staff_client(staff):
    return _logged_in(staff)


@pytest.fixture
def make_item(listing):
    """Items of the listing's (done) photo, as a worker would have left them."""
    from catalog.models import Category, Item

    photo = listing.photos.get()
    photo.status = "done"
    photo.save()

    def make(path="Fruit > Banana", confidence=0.9, **fields):
        category = Category.objects.get_or_create_path(path.split(" > ")) if path else None
        lineage = category.lineage_ids() if category else []
        return Item.objects.create(photo=photo, box=[0, 0, 8, 8], crop_box=[0, 0, 8, 8], category=category,
                                   confidences=[confidence] * len(lineage), decided_lineage=lineage,
                                   confidence=confidence if category else 0,
                                   embedding=bytes(16), embedding_version="test-1", **fields)
    return make


@pytest.fixture
def owner_key(owner):
    from catalog.models import ApiToken

    return ApiToken.objects.issue(owner, "stock sync")[1]


@pytest.fixture
def api(owner_key):
    """A client of the owner's, authenticated by API token only (no session)."""
    return Client(HTTP_AUTHORIZATION=f"Token {owner_key}")


@pytest.fixture
def outsider_api(outsider):
    from catalog.models import ApiToken

    return Client(HTTP_AUTHORIZATION=f"Token {ApiToken.objects.issue(outsider, 'theirs')[1]}")


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def outsider_client(outsider):
    return _logged_in(outsider)


def _logged_in(user):
    """A client of its own (beside pytest-django's `client`), logged in as `user`."""
    other = Client()
    other.force_login(user)
    return other


@pytest.fixture
def imported_catalogue(small_catalogue, settings):
    """The small Grocery catalogue imported as references, with its index built."""
    call_command("import_catalog", str(small_catalogue[0]), stdout=io.StringIO(), stderr=io.StringIO())
    return small_catalogue


@pytest.fixture
def calibrated_catalogue(tmp_path, settings):
    """A Grocery catalogue of 24 train photos of each small-catalogue leaf, imported: enough
    references left out of its index to calibrate it (vision.calibration)."""
    reference = copy_small_catalogue(tmp_path / "calibrated", "train", 24)
    call_command("import_catalog", str(reference), stdout=io.StringIO(), stderr=io.StringIO())
    return reference


@pytest.fixture
def listing(owner, settings):
    """A listing of the owner's with one stored (not yet categorized) photo."""
    from catalog.models import Listing, Photo

    listing = Listing.objects.create(seller=owner, title="Bananas")
    photo = Photo(listing=listing, original_name="banana.png", width=8, height=8)
    photo.image.save("photo.png", ContentFile(_png_bytes()), save=True)
    return listing


@pytest.fixture
def banana_photo(listing):
    """The listing's photo, holding a real held-out Grocery photo of bananas."""
    photo = listing.photos.get()
    photo.image.save("photo.jpg", grocery_upload("Fruit/Banana"), save=True)
    return photo


def _png_bytes():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (240, 220, 40)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def tiny_embedder(small_catalogue, tmp_path, monkeypatch):
    """A trained embedder named 'tiny' (a few real training steps on the small catalogue), seeing
    photos at the 224 px it trained at, as the efficientnet_lite0 it is paired with does."""
    from vision.training.train_embedder import get_args_parser, main

    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(tmp_path / "weights"))
    main(get_args_parser().parse_args([
        "--data", str(small_catalogue[0]), "--name", "tiny", "--epochs", "2", "--batch-size", "8",
        "--projection-dim", "64", "--workers", "0", "--output-dir", str(tmp_path / "training"),
        "--serving-size", "224",
    ]))
    return "tiny"


@pytest.fixture(scope="session")
def tiny_segmenter_files(tmp_path_factory):
    """Weights and training folders of a segmenter named 'tiny': a few real training steps on a
    few ECSSD photos and composites. Trained once per test session."""
    from vision.training.train_segmenter import get_args_parser, main

    if not os.path.isdir(ECSSD):
        pytest.skip(f"ECSSD is not at {ECSSD}")
    root = tmp_path_factory.mktemp("tiny_segmenter")
    previous = os.environ.get("VISION_WEIGHTS_DIR")
    os.environ["VISION_WEIGHTS_DIR"] = str(root / "weights")
    try:
        history = main(get_args_parser().parse_args([
            "--name", "tiny", "--epochs", "2", "--eval-every", "1", "--limit", "10", "--composites", "8",
            "--val-composites", "2", "--batch-size", "4", "--input-size", "128", "--max-steps", "3",
            "--workers", "0", "--output-dir", str(root / "training"),
        ]))
    finally:
        os.environ.pop("VISION_WEIGHTS_DIR") if previous is None else os.environ.update(VISION_WEIGHTS_DIR=previous)
    return root, history


@pytest.fixture
def tiny_segmenter(tiny_segmenter_files, monkeypatch):
    """('tiny', its training history), with VISION_WEIGHTS_DIR pointing at its weights."""
    root, history = tiny_segmenter_files
    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(root / "weights"))
    return "tiny", history


@pytest.fixture
def s3_storage(settings):
    """The app's files in a bucket of this test's own on the S3 endpoint bin/test starts (SeaweedFS,
    TEST_S3_ENDPOINT_URL), as with CATALOG_STORAGE=s3; the bucket is emptied and removed after."""
    import boto3

    endpoint = os.environ.get("TEST_S3_ENDPOINT_URL")
    if not endpoint:
        pytest.fail("No S3 endpoint: set TEST_S3_ENDPOINT_URL, or run the tests with bin/test (it starts SeaweedFS).")
    keys = {"aws_access_key_id": os.environ.get("AWS_ACCESS_KEY_ID", "catalog-dev"),
            "aws_secret_access_key": os.environ.get("AWS_SECRET_ACCESS_KEY", "catalog-dev-secret")}
    bucket = boto3.resource("s3", endpoint_url=endpoint, region_name="us-east-1", **keys).Bucket(
        f"test-{uuid.uuid4().hex[:12]}")
    bucket.create()
    options = s3_options(bucket.name, endpoint, addressing_style="path", access_key=keys["aws_access_key_id"],
                         secret_key=keys["aws_secret_access_key"])
    settings.CATALOG_STORAGE = "s3"
    settings.CATALOG_S3_OPTIONS = options
    settings.STORAGES = settings.STORAGES | {"default": {"BACKEND": "storages.backends.s3.S3Storage",
                                                         "OPTIONS": options}}
    yield bucket
    bucket.objects.all().delete()
    bucket.delete()
