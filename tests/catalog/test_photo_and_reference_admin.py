"""Photos and references in the admin: a photo is only looked at there (its checks, files and
worker live in the upload); a reference's file replaced there is embedded again, and an unreadable
one is refused."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from catalog.models import Category, Photo, ReferenceImage

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("ada", password="a-long-password-4"))
    return client


def _png(colour):
    data = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(data, "PNG")
    return SimpleUploadedFile("new.png", data.getvalue(), content_type="image/png")


def test_a_photo_cannot_be_added_moved_or_given_a_status_in_the_admin(admin_client, listing, django_user_model):
    photo = listing.photos.get()
    other = django_user_model.objects.create_user("bo", password="a-long-password-5").listings.create(title="Other")
    assert admin_client.get(f"/admin/catalog/photo/{photo.pk}/change/").status_code == 200  # still seen
    answer = admin_client.post(f"/admin/catalog/photo/{photo.pk}/change/",
                               {"listing": other.pk, "status": Photo.Status.DONE, "original_name": "x.png"})
    assert answer.status_code == 403
    photo.refresh_from_db()
    assert photo.listing == listing and photo.status != Photo.Status.DONE
    assert admin_client.get("/admin/catalog/photo/add/").status_code == 403


def _reference(category):
    reference = ReferenceImage(category=category, source=ReferenceImage.Source.IMPORT, source_key="a.png",
                               content_key="0123456789abcdef", embedding=b"\0" * 8, embedding_version="v1")
    reference.image.save("a.png", _png("red"), save=True)
    return reference


def _replace_file(admin_client, reference, upload):
    return admin_client.post(f"/admin/catalog/referenceimage/{reference.pk}/change/", {
        "category": reference.category_id, "image": upload, "source": reference.source,
        "source_key": reference.source_key})


def test_a_reference_given_another_file_is_embedded_again(admin_client):
    reference = _reference(Category.objects.get_or_create_path(["Fruit", "Apple"]))
    assert _replace_file(admin_client, reference, _png("green")).status_code == 302
    reference.refresh_from_db()
    # The old photo's embedding and key would have stayed in the index under the new picture.
    assert (reference.embedding, reference.embedding_version, reference.content_key) == (None, "", "")


def test_an_unreadable_file_is_refused_and_the_reference_kept(admin_client):
    reference = _reference(Category.objects.get_or_create_path(["Fruit", "Apple"]))
    stored = reference.image.name
    answer = _replace_file(admin_client, reference, SimpleUploadedFile("bad.png", b"not an image"))
    assert answer.status_code == 200 and b"errorlist" in answer.content
    reference.refresh_from_db()
    assert reference.embedding_version == "v1" and reference.image.name == stored


def test_a_listings_photos_cannot_be_deleted_from_its_admin_page(admin_client, listing):
    # Deleted there, the listing was not decided again (a seller's removal is).
    page = admin_client.get(f"/admin/catalog/listing/{listing.pk}/change/").content.decode()
    assert "photo.png" in page or listing.photos.get().original_name in page
    assert "-DELETE" not in page
