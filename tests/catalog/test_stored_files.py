import pytest
from django.core.files.base import ContentFile
from django.db import transaction

from catalog.models import Category, Item, Listing, ReferenceImage
from tests.photos import exists, with_heatmap

pytestmark = pytest.mark.django_db


def test_a_replaced_item_takes_its_heatmap_file_with_it(make_item, django_capture_on_commit_callbacks):
    item = with_heatmap(make_item())
    with django_capture_on_commit_callbacks(execute=True):
        Item.objects.filter(pk=item.pk).delete()
    assert not exists(item.heatmap)


def test_a_deletion_that_is_rolled_back_keeps_the_files(listing, django_capture_on_commit_callbacks):
    photo = listing.photos.get()
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            Listing.objects.filter(pk=listing.pk).delete()
            raise RuntimeError("the request failed after the delete")
    assert Listing.objects.exists() and exists(photo.image)


def test_a_removed_reference_takes_its_image_file_with_it(django_capture_on_commit_callbacks):
    category = Category.objects.get_or_create_path(["Fruit", "Banana"])
    reference = ReferenceImage(category=category, source=ReferenceImage.Source.REVIEW, source_key="item-1")
    reference.image.save("crop.png", ContentFile(b"png"), save=True)
    with django_capture_on_commit_callbacks(execute=True):
        reference.delete()
    assert not exists(reference.image)
