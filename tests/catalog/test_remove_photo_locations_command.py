"""manage.py remove_photo_locations: the photos stored before uploads lost their location lose it
too, once, and a file that cannot be read is named and left alone."""

import io

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from PIL import Image

from catalog.models import Photo
from tests.catalog.test_photo_location_removed import location_in, photo_with_location, stored

pytestmark = pytest.mark.django_db


def _stored_as_sent(listing, data, name):
    """A photo of `listing` whose original was stored as sent (before uploads removed locations)."""
    photo = Photo(listing=listing, original_name=name, width=64, height=96)
    photo.image.save(name, ContentFile(data), save=True)
    return photo


def test_stored_photos_holding_a_location_are_stored_again_without_it(listing, capsys):
    sent = photo_with_location("JPEG")
    old = _stored_as_sent(listing, sent, "shelf.jpg")
    clean = listing.photos.first()  # the fixture's photo, which holds no location
    clean_name, clean_bytes = clean.image.name, stored(clean)
    call_command("remove_photo_locations")
    assert "1 of 2 stored photos held where they were taken" in capsys.readouterr().out
    old.refresh_from_db()
    kept = stored(old)
    assert not location_in(kept)
    assert list(Image.open(io.BytesIO(kept)).getdata()) == list(Image.open(io.BytesIO(sent)).getdata())
    assert Image.open(io.BytesIO(kept)).getexif()[0x0112] == 6  # still shown upright
    assert old.image.storage.exists(old.image.name)
    clean.refresh_from_db()
    assert (clean.image.name, stored(clean)) == (clean_name, clean_bytes)  # untouched
    call_command("remove_photo_locations")
    assert "0 of 2 stored photos held where they were taken" in capsys.readouterr().out


def test_the_old_file_goes_and_an_unreadable_one_is_named_and_left(listing, capsys,
                                                                   django_capture_on_commit_callbacks):
    located = _stored_as_sent(listing, photo_with_location("JPEG"), "shelf.jpg")
    old_name = located.image.name
    broken = _stored_as_sent(listing, b"\xff\xd8\xff\xe0 not really a jpeg", "broken.jpg")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("remove_photo_locations")
    output = capsys.readouterr()
    assert "1 of 3 stored photos held where they were taken" in output.out and "1 could not be read" in output.out
    assert f"left alone, could not be read: {broken.image.name}" in output.err
    located.refresh_from_db()
    assert located.image.name != old_name and not located.image.storage.exists(old_name)
