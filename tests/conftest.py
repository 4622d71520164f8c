import io
import os
import shutil

import pytest
from django.core.management import call_command
from django.test import Client
from PIL import Image

GROCERY = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "datasets", "grocery-store", "dataset")

# Three leaves at two depths, visually distinct: enough for the real backbone to separate.
SMALL_CATALOGUE_LEAVES = ("Fruit/Banana", "Fruit/Apple/Granny-Smith", "Vegetables/Carrots")


def grocery_images(split, leaf, count):
    folder = os.path.join(GROCERY, split, leaf)
    if not os.path.isdir(folder):
        pytest.skip(f"the Grocery Store dataset is not at {GROCERY}")
    return [os.path.join(folder, name) for name in sorted(os.listdir(folder))[:count]]


def copy_small_catalogue(destination, split, per_leaf):
    for leaf in SMALL_CATALOGUE_LEAVES:
        target = destination / leaf
        target.mkdir(parents=True)
        for path in grocery_images(split, leaf, per_leaf):
            shutil.copy(path, target)
    return destination


@pytest.fixture
def small_catalogue(tmp_path):
    """(reference root, query root): Grocery train photos as references, val photos as queries."""
    return (copy_small_catalogue(tmp_path / "reference", "train", 8),
            copy_small_catalogue(tmp_path / "queries", "val", 3))


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
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def outsider_client(outsider):
    other = Client()
    other.force_login(outsider)
    return other


@pytest.fixture
def imported_catalogue(small_catalogue, settings):
    """The small Grocery catalogue imported as references, with its index built."""
    call_command("import_catalog", str(small_catalogue[0]), stdout=io.StringIO(), stderr=io.StringIO())
    return small_catalogue


@pytest.fixture
def listing(owner, settings):
    """A listing of the owner's with one stored (not yet categorized) photo."""
    from django.core.files.base import ContentFile

    from catalog.models import Listing, Photo

    listing = Listing.objects.create(seller=owner, title="Bananas")
    photo = Photo(listing=listing, original_name="banana.png", width=8, height=8)
    photo.image.save("photo.png", ContentFile(_png_bytes()), save=True)
    return listing


def _png_bytes():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (240, 220, 40)).save(buffer, "PNG")
    return buffer.getvalue()
