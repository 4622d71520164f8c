"""Photos a few pixels high or wide hold no product: refused at upload, with the reason, which the
form and the API say in the same words."""

import html

import pytest
from PIL import Image

from catalog.models import Listing
from tests.photos import encoded_upload, raw_upload

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("size, reason", [((300, 1), "at least 16 pixels"), ((50000, 1), "at least 16 pixels"),
                                          ((2000, 40), "times as long as it is wide")])
def test_the_form_and_the_api_refuse_a_strip_of_pixels(owner_client, api, size, reason):
    def photo():
        return encoded_upload("strip.png", Image.new("L", size, 128))

    form = owner_client.post("/listings/new/", {"title": "Strip", "photos": [photo()]})
    answer = api.post("/api/v1/listings/", {"title": "Strip", "photos": [photo()]})
    [problem] = answer.json()["errors"]["photos"]
    assert problem["file"] == "strip.png" and reason in problem["reason"] and problem["reason"] in form.content.decode()
    assert answer.status_code == 400 and not Listing.objects.exists()


def test_a_small_but_usable_photo_is_accepted(api):
    photo = encoded_upload("t.png", Image.new("RGB", (16, 64)))
    response = api.post("/api/v1/listings/", {"title": "Thumb", "photos": [photo]})
    assert response.status_code == 201


@pytest.mark.parametrize("photos", [
    lambda: [raw_upload("notes.jpg", b"a shopping list"), raw_upload("empty.jpg", b"")],
    lambda: [encoded_upload(f"{n}.png") for n in range(3)],
    lambda: [],
])
def test_the_form_and_the_api_say_a_refusal_in_the_same_words(owner_client, api, settings, photos):
    """errors.photos is always a list of {file, reason}; the form shows each as "file: reason"."""
    settings.CATALOG_MAX_PHOTOS_PER_LISTING = 2
    form = owner_client.post("/listings/new/", {"title": "Mixed", "photos": photos()})
    answer = api.post("/api/v1/listings/", {"title": "Mixed", "photos": photos()})
    problems = answer.json()["errors"]["photos"]
    assert answer.status_code == 400 and problems and all(set(problem) == {"file", "reason"} for problem in problems)
    shown = html.unescape(form.content.decode())
    for problem in problems:
        assert (f"{problem['file']}: {problem['reason']}" if problem["file"] else problem["reason"]) in shown
