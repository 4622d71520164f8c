import io

import pytest
from PIL import Image

from catalog.models import Listing
from tests.photos import encoded_upload

pytestmark = pytest.mark.django_db


def served_image(client, photo, query=""):
    response = client.get(f"/photos/{photo.uuid}/image{query}")
    assert response.status_code == 200
    return Image.open(io.BytesIO(b"".join(response.streaming_content)))


@pytest.fixture
def uploaded_photo(owner_client):
    """upload(file) -> the Photo of a listing made with it on the upload form."""
    def upload(photo_file):
        owner_client.post("/listings/new/", {"title": "A product", "photos": [photo_file]})
        return Listing.objects.get().photos.get()
    return upload


def test_the_owner_gets_the_photo_file(owner_client, listing):
    photo = listing.photos.get()
    assert served_image(owner_client, photo, "?size=original").format == "PNG"
    assert served_image(owner_client, photo).format == "JPEG"


def test_a_heic_photo_is_shown_as_a_jpeg_and_kept_as_uploaded(owner_client, uploaded_photo):
    photo = uploaded_photo(encoded_upload("IMG_0001.HEIC", Image.new("RGB", (640, 480), (30, 120, 60)), "HEIF"))

    shown = served_image(owner_client, photo)
    assert (shown.format, shown.size) == ("JPEG", (640, 480))
    assert served_image(owner_client, photo, "?size=original").format == "HEIF"


def test_a_large_photo_is_served_downscaled_with_a_thumbnail(owner_client, uploaded_photo):
    photo = uploaded_photo(encoded_upload("big.jpg", Image.new("RGB", (4000, 3000), (200, 180, 40)), "JPEG"))

    assert served_image(owner_client, photo).size == (1600, 1200)
    assert served_image(owner_client, photo, "?size=thumbnail").size == (360, 270)
    assert served_image(owner_client, photo, "?size=original").size == (4000, 3000)


def test_a_photo_no_worker_has_reached_gets_its_display_images_when_first_shown(owner_client, listing):
    photo = listing.photos.get()
    assert not photo.display
    assert served_image(owner_client, photo, "?size=thumbnail").format == "JPEG"
    photo.refresh_from_db()
    assert photo.display and photo.thumbnail


def test_an_unknown_size_is_refused(owner_client, listing):
    response = owner_client.get(f"/photos/{listing.photos.get().uuid}/image?size=huge")
    assert response.status_code == 400 and "display, thumbnail, original" in response.content.decode()


def test_an_outsider_gets_404_for_the_photo_file(outsider_client, listing):
    assert outsider_client.get(f"/photos/{listing.photos.get().uuid}/image").status_code == 404


def test_an_anonymous_visitor_cannot_fetch_the_photo_file(client, listing):
    assert client.get(f"/photos/{listing.photos.get().uuid}/image").status_code == 302


def test_photo_files_are_not_served_from_a_public_media_url(client, owner_client, listing):
    name = listing.photos.get().image.name
    assert owner_client.get(f"/media/{name}").status_code == 404


def test_staff_get_any_sellers_photo_file_for_review(staff_client, listing):
    assert staff_client.get(f"/photos/{listing.photos.get().uuid}/image").status_code == 200


def test_a_photo_whose_file_is_lost_is_a_404_not_a_server_error(owner_client, api, listing):
    photo = listing.photos.get()
    photo.image.storage.delete(photo.image.name)  # as for a photo that failed: its file is missing
    for path in (f"/photos/{photo.uuid}/image", f"/photos/{photo.uuid}/image?size=original"):
        response = owner_client.get(path)
        assert response.status_code == 404
    assert api.get(f"/api/v1/photos/{photo.uuid}/image").status_code == 404
