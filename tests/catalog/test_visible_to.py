"""The one access rule (SellersQuerySet.visible_to), as pages, API and review use it."""

import pytest
from django.core.files.base import ContentFile

from catalog.models import ApiToken, BulkJob, Category, Item, Listing, Photo, ReferenceImage

pytestmark = pytest.mark.django_db


@pytest.fixture
def references():
    category = Category.objects.get_or_create_path(["Fruit", "Banana"])
    made = {}
    for source in ReferenceImage.Source:
        reference = ReferenceImage(category=category, source=source, source_key=f"{source}-1")
        reference.image.save("banana.jpg", ContentFile(b"not read here"), save=True)
        made[source] = reference
    return made


def test_a_seller_sees_their_own_rows_and_nobody_elses(owner, outsider, make_item):
    item = make_item()
    ApiToken.objects.issue(owner, "shop")
    BulkJob.objects.create(seller=owner)
    for model in (Listing, Photo, Item, ApiToken, BulkJob):
        assert model.objects.visible_to(owner).count() == 1, model
        assert not model.objects.visible_to(outsider).exists(), model
    assert Item.objects.visible_to(owner).get() == item


def test_staff_see_every_sellers_photos_and_items_but_only_their_own_listings(owner, staff, make_item):
    make_item()
    ApiToken.objects.issue(owner, "shop")
    BulkJob.objects.create(seller=owner)
    assert Photo.objects.visible_to(staff).count() == 1 and Item.objects.visible_to(staff).count() == 1
    for model in (Listing, ApiToken, BulkJob):
        assert not model.objects.visible_to(staff).exists(), model


def test_references_made_in_review_are_for_staff_only(owner, staff, references):
    assert list(ReferenceImage.objects.visible_to(owner)) == [references[ReferenceImage.Source.IMPORT]]
    assert set(ReferenceImage.objects.visible_to(staff)) == set(references.values())


def test_the_api_and_the_pages_apply_the_same_rule_to_a_photo(owner, staff, listing, outsider_client, staff_client):
    photo = listing.photos.get()
    for path in (f"/photos/{photo.uuid}/image?size=original", f"/api/v1/photos/{photo.uuid}/image?size=original"):
        assert outsider_client.get(path).status_code == 404, path
        assert staff_client.get(path).status_code == 200, path
