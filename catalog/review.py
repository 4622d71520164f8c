"""Staff review decisions, each recorded, each changing the listing's decision.

Accepting or correcting an item makes it a reference of its category at once. The reference is
the part of the photo that was categorized, with the embedding already made of it, so adding
it to the index needs no new forward pass while the backbone is the same. An item set aside as
"not in the catalogue" or "not a product" gets no category and is never a reference.
"""

import io

from django.core.files.base import ContentFile
from django.db import transaction

from vision.content_keys import content_key_of_bytes
from vision.images import load_image

from .models import Category, Item, ReferenceImage, ReviewDecision, review_source_key
from .tasks import enqueue_index_update, enqueue_listing_decision, enqueue_threshold_refit

SET_ASIDE = {
    ReviewDecision.Action.NOT_IN_CATALOGUE: Item.Review.NOT_IN_CATALOGUE,
    ReviewDecision.Action.NOT_A_PRODUCT: Item.Review.NOT_A_PRODUCT,
}


class ChangedSinceSeen(Exception):
    """The item is no longer as the reviewer's page showed it (Item.seen_as): another reviewer
    decided about it meanwhile, or it was drawn for an audit."""


def decide(item, category, reviewer, action=None, seen=None):
    """Record that `reviewer` says `item` is `category`: an accept when it already was, else a
    correction. `seen`: the item's state as the reviewer's page showed it (ChangedSinceSeen when it
    is no longer so; None: not checked)."""
    with transaction.atomic():
        _lock_as_seen(item, seen)
        if action is None:
            action = (ReviewDecision.Action.ACCEPTED if item.category_id == category.pk
                      else ReviewDecision.Action.CORRECTED)
        review = Item.Review.ACCEPTED if action == ReviewDecision.Action.ACCEPTED else Item.Review.CORRECTED
        if item.review == Item.Review.CORRECTED and action == ReviewDecision.Action.ACCEPTED:
            review = Item.Review.CORRECTED  # staff's own category confirmed: still not the model's answer
        _record(item, reviewer, action, category, review)
        _make_reference(item, category)
        transaction.on_commit(enqueue_index_update)
    return action


def new_category(item, parent, name, reviewer, seen=None):
    """Make the category `name` under `parent` (None: a new top level) and put the item in it; the
    caller has checked that no such category exists. Nothing is made when the item changed (`seen`)."""
    with transaction.atomic():
        category = Category.objects.create(parent=parent, name=name)
        decide(item, category, reviewer, ReviewDecision.Action.NEW_CATEGORY, seen)
    return category


def set_aside(item, action, reviewer, seen=None):
    """Record that the item is not in the catalogue, or not a product: it loses its category, and
    a reference an earlier decision made of it is removed (`seen`: as decide's)."""
    with transaction.atomic():
        _lock_as_seen(item, seen)
        _record(item, reviewer, action, None, SET_ASIDE[action])
        removed, _ = ReferenceImage.objects.made_of(item).delete()
        if removed:
            transaction.on_commit(enqueue_index_update)


def _lock_as_seen(item, seen):
    """Lock the item's row until the decision is recorded, and read what it is now: two reviewers
    posting at once, or an audit drawn meanwhile, are not both taken as what each saw."""
    if not Item.objects.select_for_update().filter(pk=item.pk).exists():
        raise Item.DoesNotExist(f"item {item.pk} is gone")
    item.refresh_from_db(fields=["category", "review", "audit"])
    if seen is not None and item.seen_as != seen:
        raise ChangedSinceSeen


def _record(item, reviewer, action, category, review):
    ReviewDecision.objects.create(item=item, reviewer=reviewer, action=action, old_category=item.category,
                                  new_category=category)
    item.category, item.review = category, review
    item.save(update_fields=["category", "review"])
    listing_id = item.photo.listing_id
    transaction.on_commit(lambda: enqueue_listing_decision(listing_id))
    if item.audit:  # the live precision changed: the thresholds may need to rise (worker.thresholds)
        transaction.on_commit(enqueue_threshold_refit)


def _make_reference(item, category):
    reference, _ = ReferenceImage.objects.get_or_create(
        source=ReferenceImage.Source.REVIEW, source_key=review_source_key(item), defaults={"category": category})
    reference.category = category
    reference.embedding, reference.embedding_version = item.embedding, item.embedding_version
    if not reference.image:
        crop = _crop_jpeg(item)
        reference.image.save("item.jpg", ContentFile(crop), save=False)
        reference.content_key = content_key_of_bytes(crop)
    reference.save()


def _crop_jpeg(item):
    with item.photo.image.open("rb") as handle:
        crop = load_image(handle).crop(item.crop_box or item.box)
    buffer = io.BytesIO()
    crop.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()
