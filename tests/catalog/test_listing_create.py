import os

import pytest
from django.test import Client
from PIL import Image

from catalog.models import Item, Listing, Photo
from tests.photos import encoded_upload, grocery_upload, raw_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def post_listing(owner_client, django_capture_on_commit_callbacks):
    def post(*photos, title="Fresh produce", client=owner_client):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/listings/new/", {"title": title, "photos": list(photos)})
    return post


def corrupted(upload):
    data = bytearray(upload.read())
    data[60:80] = b"\x00" * 20  # inside the compressed pixel data
    return bytes(data)


def stored_files(settings):
    root = settings.MEDIA_ROOT / "photos"
    return [f for _, _, files in os.walk(root) for f in files] if root.exists() else []


def test_an_uploaded_photo_gets_its_category_path(post_listing, owner_client, imported_catalogue):
    response = post_listing(grocery_upload("Fruit/Banana"), grocery_upload("Vegetables/Carrots"))
    listing = Listing.objects.get()
    assert response.status_code == 302 and response.url == f"/listings/{listing.uuid}/"
    photos = list(listing.photos.all())
    assert [p.status for p in photos] == ["done", "done"]
    items = [p.items.first() for p in photos]  # the main item of each
    assert [i.category.path for i in items] == ["Fruit > Banana", "Vegetables > Carrots"]
    assert all(len(i.confidences) == len(i.category.names) for i in items)
    assert all(i.neighbours and i.neighbours[0]["similarity"] > 0.5 for i in items)
    assert photos[0].model_version.startswith("efficientnet_lite0-imagenet-1@onnxruntime+index:")
    assert photos[0].index_version


def test_the_page_shows_the_category_path_and_the_nearest_references(post_listing, owner_client, imported_catalogue):
    post_listing(grocery_upload("Fruit/Apple/Granny-Smith"))
    page = owner_client.get(f"/listings/{Listing.objects.get().uuid}/").content.decode()
    assert "Granny-Smith" in page and "%" in page
    assert "/references/" in page


def test_it_requires_a_title_and_a_photo(post_listing):
    response = post_listing(title="")
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert "Choose at least one photo." in response.content.decode()


def test_it_refuses_anonymous_uploads(post_listing):
    response = post_listing(encoded_upload("a.png"), client=Client())
    assert response.status_code == 302 and response.url.startswith("/login/")
    assert not Photo.objects.exists()


BAD_UPLOADS = {
    "zero_byte": (lambda: raw_upload("empty.jpg", b""), "The file is empty."),
    "non_image": (lambda: raw_upload("notes.jpg", b"this is a shopping list"), "not an image"),
    "wrong_extension": (lambda: encoded_upload("photo.exe"), "Files ending in &#x27;.exe&#x27; are not accepted"),
    "gif": (lambda: encoded_upload("photo.gif", fmt="GIF"), "Files ending in &#x27;.gif&#x27; are not accepted"),
    "truncated": (
        lambda: raw_upload("cut.jpg", encoded_upload("x.jpg", Image.effect_noise((300, 300), 50).convert("RGB"),
                                                     "JPEG").read()[:4000]),
        "corrupt or truncated",
    ),
    "corrupt": (lambda: raw_upload("bad.png", corrupted(encoded_upload("x.png", Image.effect_noise((64, 64), 60)))),
                "corrupt or truncated"),
    "bomb": (lambda: encoded_upload("bomb.png", Image.new("1", (30_000, 30_000))), "too many pixels"),
}


@pytest.mark.parametrize("kind", BAD_UPLOADS)
def test_it_rejects_a_bad_upload_and_keeps_nothing(post_listing, settings, kind):
    make_upload, message = BAD_UPLOADS[kind]
    response = post_listing(encoded_upload("good.png"), make_upload())
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "Nothing was uploaded" in response.content.decode()
    assert not Listing.objects.exists() and not Photo.objects.exists() and not Item.objects.exists()
    assert stored_files(settings) == []


def test_it_rejects_a_file_over_the_size_limit(post_listing, settings):
    settings.CATALOG_MAX_PHOTO_BYTES = 1000
    upload = encoded_upload("big.png", Image.effect_noise((200, 200), 50))
    response = post_listing(upload)
    assert "the limit is" in response.content.decode()
    assert not Photo.objects.exists()


def test_it_rejects_too_many_photos(post_listing, settings):
    settings.CATALOG_MAX_PHOTOS_PER_LISTING = 2
    response = post_listing(*[encoded_upload(f"{i}.png") for i in range(3)])
    assert "at most 2 photos; you chose 3" in response.content.decode()
    assert not Photo.objects.exists()


def test_a_photo_uploaded_before_any_catalogue_exists_fails_with_a_reason(post_listing, caplog):
    post_listing(encoded_upload("a.png"))
    photo = Photo.objects.get()
    assert photo.status == "failed"
    # The seller is told what it means for them; staff's instruction goes to the log.
    assert "Categorization is not set up on this server yet" in photo.failure_reason
    assert "manage.py" not in photo.failure_reason and "import_catalog" in caplog.text


def test_every_bad_file_is_named_at_once(post_listing):
    response = post_listing(raw_upload("a.jpg", b""), encoded_upload("fine.png"), raw_upload("b.jpg", b"text"))
    page = response.content.decode()
    assert "a.jpg: The file is empty." in page and "b.jpg: The file is not an image" in page
    assert not Photo.objects.exists()
