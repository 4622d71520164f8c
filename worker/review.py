"""Staff review decisions: the item takes the category and becomes a reference of it at once.

The reference is the part of the photo that was categorized, with the embedding already made
of it, so adding it to the index needs no new forward pass while the backbone is the same.
"""

import io

from django.core.files.base import ContentFile
from django.db import transaction

from catalog.models import Item, ReferenceImage, ReviewDecision
from vision.images import load_image

from .tasks import enqueue_index_update


def decide(item, category, reviewer):
    """Record that `reviewer` says `item` is `category`: an accept when it already was, else a correction."""
    action = ReviewDecision.Action.ACCEPTED if item.category_id == category.pk else ReviewDecision.Action.CORRECTED
    with transaction.atomic():
        ReviewDecision.objects.create(item=item, reviewer=reviewer, action=action,
                                      old_category=item.category, new_category=category)
        item.category, item.review = category, Item.Review(action)
        item.save(update_fields=["category", "review"])
        _make_reference(item, category)
        transaction.on_commit(enqueue_index_update)
    return action


def _make_reference(item, category):
    reference, _ = ReferenceImage.objects.get_or_create(
        source=ReferenceImage.Source.REVIEW, source_key=f"item:{item.uuid}", defaults={"category": category})
    reference.category = category
    reference.embedding, reference.embedding_version = item.embedding, item.embedding_version
    if not reference.image:
        reference.image.save("item.jpg", ContentFile(_crop_jpeg(item)), save=False)
    reference.save()


def _crop_jpeg(item):
    with item.photo.image.open("rb") as handle:
        crop = load_image(handle).crop(item.crop_box or item.box)
    buffer = io.BytesIO()
    crop.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()
