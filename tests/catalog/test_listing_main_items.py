"""A listing is decided from each photo's main item: the one the worker put first, not the largest box."""

import pytest

from catalog.models import Item, Photo

pytestmark = pytest.mark.django_db


def test_each_photo_gives_the_item_found_first_unless_staff_set_it_aside(listing):
    photo = listing.photos.get()
    Photo.objects.filter(pk=photo.pk).update(status=Photo.Status.DONE)
    # A detector puts first the product it is surest of, which may be smaller than a box behind it.
    main = Item.objects.create(photo=photo, box=[10, 10, 50, 90])
    larger = Item.objects.create(photo=photo, box=[0, 0, 200, 200])
    assert listing.main_items() == [main]
    Item.objects.filter(pk=main.pk).update(review=Item.Review.NOT_A_PRODUCT)
    assert listing.main_items() == [larger]
