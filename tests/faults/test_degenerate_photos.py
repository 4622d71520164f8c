"""Photos a few pixels high or wide hold no product: refused at upload, with the reason."""

import pytest
from PIL import Image

from catalog.models import Listing
from tests.photos import encoded_upload

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("size, reason", [((300, 1), "at least 16 pixels"), ((50000, 1), "at least 16 pixels"),
                                          ((2000, 40), "times as long as it is wide")])
def test_the_form_and_the_api_refuse_a_strip_of_pixels(owner_client, api, size, reason):
    def photo():
        return encoded_upload("strip.png", Image.new("L", size, 128))

    form = owner_client.post("/listings/new/", {"title": "Strip", "photos": [photo()]})
    answer = api.post("/api/v1/listings/", {"title": "Strip", "photos": [photo()]})
    assert reason in form.content.decode() and reason in answer.json()["errors"]["photos"]["0"][0]
    assert answer.status_code == 400 and not Listing.objects.exists()


def test_a_small_but_usable_photo_is_accepted(api):
    photo = encoded_upload("t.png", Image.new("RGB", (16, 64)))
    response = api.post("/api/v1/listings/", {"title": "Thumb", "photos": [photo]})
    assert response.status_code == 201
