"""Staff review decisions, each recorded, each changing the listing's decision.

Accepting or correcting an item makes it a reference of its category at once. The reference is
the part of the photo that was categorized, with the embedding already made of it, so adding
it to the index needs no new forward pass while the backbone is the same. An item set aside as
"not in the catalogue" or "not a product" gets no category and is never a reference.
"""

import io
from datetime import timedelta

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from vision.catalogue import PATH_SEPARATOR
from vision.content_keys import content_key_of_bytes
from vision.images import load_image

from .models import Category, Item, ReferenceImage, ReviewDecision, review_source_key
from .tasks import enqueue_index_update, enqueue_listing_decision, enqueue_threshold_refit

# A decision this reviewer made this recently, asked for again on the page that preceded it, is the
# same request sent twice (a double click), not a change another made.
SENT_AGAIN = timedelta(minutes=2)

SET_ASIDE = {
    ReviewDecision.Action.NOT_IN_CATALOGUE: Item.Review.NOT_IN_CATALOGUE,
    ReviewDecision.Action.NOT_A_PRODUCT: Item.Review.NOT_A_PRODUCT,
}


class CategoryExists(Exception):
    """The category to make exists already; the message says so."""


class ChangedSinceSeen(Exception):
    """The item is no longer as the reviewer's page showed it (Item.seen_as): another reviewer
    decided about it meanwhile, or it was drawn for an audit."""


def decide(item, category, reviewer, action=None, seen=None):
    """Record that `reviewer` says `item` is `category`: an accept when it already was, else a
    correction. `seen`: the item's state as the reviewer's page showed it (ChangedSinceSeen when it
    is no longer so; None: not checked)."""
    with transaction.atomic():
        if (done := _lock_as_seen(item, seen, reviewer, category)) is not None:
            return done
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


def accept(item, reviewer, seen=None):
    """Accept the category the reviewer's card showed (`seen`: Item.seen_as), which is the item's
    unless it changed since (then ChangedSinceSeen, unless the change was this very accept sent
    twice); returns (the ReviewDecision action, the category accepted)."""
    category = item.category
    shown = (seen or "").partition(".")[0]
    if seen is not None and shown != str(item.category_id or 0):
        category = Category.objects.filter(pk=int(shown) if shown.isdigit() else None).first()
    if category is None:
        raise ChangedSinceSeen
    return decide(item, category, reviewer, seen=seen), category


def new_category(item, parent, name, reviewer, seen=None):
    """Make the category `name` under `parent` (None: a new top level) and put the item in it; the
    caller has checked that no such category exists. Nothing is made when the item changed (`seen`)."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                category = Category.objects.create(parent=parent, name=name)
        except IntegrityError:
            made = Category.objects.filter(parent=parent, name=name).first()
            if made and sent_again(item, reviewer, made, ReviewDecision.Action.NEW_CATEGORY):
                return made  # this very request, sent twice at once
            # Made by another reviewer since the form was checked (two at once): a 500 before.
            raise CategoryExists(f"The category {PATH_SEPARATOR.join([*(parent.names if parent else ()), name])} "
                                 "was made a moment ago: choose it with Correct.") from None
        decide(item, category, reviewer, ReviewDecision.Action.NEW_CATEGORY, seen)
    return category


def set_aside(item, action, reviewer, seen=None):
    """Record that the item is not in the catalogue, or not a product: it loses its category, and
    a reference an earlier decision made of it is removed (`seen`: as decide's)."""
    with transaction.atomic():
        if _lock_as_seen(item, seen, reviewer, None, action) is not None:
            return
        _record(item, reviewer, action, None, SET_ASIDE[action])
        removed, _ = ReferenceImage.objects.made_of(item).delete()
        if removed:
            transaction.on_commit(enqueue_index_update)


def _lock_as_seen(item, seen, reviewer, category, action=None):
    """Lock the item's row until the decision is recorded, and read what it is now: two reviewers
    posting at once, or an audit drawn meanwhile, are not both taken as what each saw. An item
    changed since by this very decision of this reviewer's (a double click, a form sent again) is
    not a change: the action it recorded is returned, and nothing is recorded again (None otherwise)."""
    if not Item.objects.select_for_update().filter(pk=item.pk).exists():
        raise Item.DoesNotExist(f"item {item.pk} is gone")
    item.refresh_from_db(fields=["category", "review", "audit"])
    if seen is None or item.seen_as == seen:
        return None
    if done := sent_again(item, reviewer, category, action):
        return done
    raise ChangedSinceSeen


def sent_again(item, reviewer, category, action=None):
    """The action of the item's latest decision when it is this `reviewer`'s, just made, to
    `category` (and `action`, when given): the same request sent twice. None otherwise."""
    # Read now: the item's own decisions may have been fetched (prefetched by the queue) before the
    # first request's decision was committed, while this one waited for the item's lock.
    latest = ReviewDecision.objects.filter(item_id=item.pk).first()
    if (latest is not None and latest.reviewer_id == reviewer.pk and timezone.now() - latest.created < SENT_AGAIN
            and latest.new_category_id == (category.pk if category else None)
            and (action is None or latest.action == action)):
        return latest.action
    return None


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
