"""Creating a listing with its photos: the one way the upload form and the API both do it."""

import logging
import math
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Sum
from django.http import Http404
from django.utils import timezone

from .models import STAFF_DECIDED, AllowanceSpent, Listing, Outcome, Photo, lock_seller
from .photos import store_display_images
from .storage import STORAGE_ERRORS, served_file
from .tasks import enqueue_listing_decision, enqueue_photo
from .text import duration_in_words

log = logging.getLogger(__name__)


class OverQuota(Exception):
    """The seller's daily allowance does not cover the photos; the message says so, and when more
    may follow (`retry_after`, in seconds: when the earliest upload still counted stops counting)."""

    def __init__(self, message, retry_after):
        super().__init__(message)
        self.retry_after = retry_after


def create_listing(seller, title, checked_photos, **fields):
    """A listing with its checked photos stored; each photo is queued once the listing is saved.
    Raises OverQuota, and makes nothing, when the seller's allowance does not cover them."""
    with transaction.atomic():
        listing = Listing.objects.create(seller=seller, title=title, **fields)
        add_photos(listing, checked_photos)
    return listing


class Refused(Exception):
    """What the seller asked cannot be done to the listing as it is now; the message says why."""


def remove_photo(listing, photo_uuid):
    """Take the listing's photo `photo_uuid` out of it: its files, items and the references staff
    made of them go with it (catalog.signals), and the listing is decided again from its other
    photos. What it spent of the seller's allowance stays spent (spend_allowance). Returns the
    removed Photo and whose category stays (category_that_stays, as it was before); raises
    Photo.DoesNotExist when the listing has no such photo, Refused when it is its last."""
    with transaction.atomic():
        # One removal of the listing's at a time, so that two together cannot take its last photo.
        listing = Listing.objects.select_for_update().get(pk=listing.pk)
        # Locked too: a worker saving this photo's result finishes first, so that its files (as
        # saved) go with it and its save cannot bring the photo back.
        photo = listing.photos.select_for_update().get(uuid=photo_uuid)
        if listing.photos.count() == 1:
            raise Refused("A listing keeps at least one photo: add another first, or delete the listing.")
        stays = category_that_stays(listing, removed=photo)
        photo.delete()
        Listing.objects.filter(pk=listing.pk).update(photos_removed=timezone.now())
        transaction.on_commit(lambda: enqueue_listing_decision(listing.pk))
    return photo, stays


def category_that_stays(listing, removed=None):
    """Photos added or removed change the listing's category only while the model decides it
    (worker.listings.update_listing_decision): whose choice stays otherwise; None when it may
    change (also when staff decided about an item of the `removed` photo: that decision goes)."""
    if listing.outcome == Outcome.REVIEWED:
        if removed is not None and removed.items.filter(review__in=STAFF_DECIDED).exists():
            return None
        return "the category catalogue staff chose stays"
    if listing.category_chosen:
        return "the category you chose stays"
    return None


def add_photos(listing, checked_photos):
    """Store the checked photos as the listing's, spending the seller's allowance (OverQuota when it
    does not cover them; Refused when the listing has no room for them, room_for_photos); each is
    queued once the transaction commits (its categorization then decides the listing again with it)."""
    stored = []
    try:
        with transaction.atomic():
            # Counted under the seller's lock: two uploads at once cannot pass the limit together.
            lock_seller(listing.seller)
            refusal = room_for_photos(listing, len(checked_photos))
            if refusal:
                raise Refused(refusal)
            spend_allowance(listing.seller, checked_photos)
            for checked in checked_photos:
                photo = Photo(listing=listing, original_name=checked.upload.name[:255],
                              width=checked.width, height=checked.height)
                # Its display copies are the worker's to make (an upload is answered sooner).
                photo.image.save(f"photo.{checked.extension}", checked.upload, save=False)
                stored.append(photo.image.name)
                photo.save()
                transaction.on_commit(partial(enqueue_photo, photo.id))
    except Exception:
        _delete_stored(stored)
        raise


def _delete_stored(names):
    """Files stored for an upload that then failed (the storage or the database gave out halfway):
    nothing of it is kept, as far as the storage lets."""
    for name in names:
        try:
            default_storage.delete(name)
        except STORAGE_ERRORS:
            log.warning("could not delete %s, stored for an upload that failed", name)


def choose_category(listing, category, shown=None):
    """The seller's own category for the listing: the one shown (accepted as it is, confidences
    kept) or another from the tree. New photos no longer change it; staff's review still does.
    Raises Refused when staff set the category, or when the seller kept the category `shown` on
    their page (a path) and it has changed since (they would save one they no longer see)."""
    with transaction.atomic():
        listing = Listing.objects.select_for_update().get(pk=listing.pk)
        if listing.outcome == Outcome.REVIEWED or listing.set_aside_by_staff:
            raise Refused("Catalogue staff set this listing's category, so it cannot be changed here.")
        if listing.awaits_redecision:
            raise Refused(f"The category is being updated after {listing.redecision_cause}: look again in a moment.")
        now_shown = listing.category.path if listing.category else ""
        if shown is not None and category.path == shown != now_shown:
            raise Refused(f"The category was updated to “{now_shown or 'none yet'}” while this page was open: "
                          "check it, then save again.")
        kept = category == listing.category
        listing.category, listing.category_chosen, listing.outcome = category, True, Outcome.CHOSEN_BY_SELLER
        listing.confidences = listing.confidences if kept else []
        listing.decided_lineage = listing.decided_lineage if kept else []
        listing.accepted_depth, listing.decided = 0, timezone.now()
        listing.save()
    return listing


def room_for_photos(listing, count):
    """Why `count` more photos do not fit the listing (CATALOG_MAX_PHOTOS_PER_LISTING), or None."""
    limit, held = settings.CATALOG_MAX_PHOTOS_PER_LISTING, listing.photos.count()
    if held + count <= limit:
        return None
    return f"A listing takes at most {limit} photos; this one has {held}, so {max(0, limit - held)} more fit."


PHOTO_SIZES = ("display", "thumbnail", "original")


def served_photo(photo, size):
    """The answer to a request for the photo's file of `size` (catalog.storage.served_file); a 404
    when its upload is lost (the photo failed so), not a server error."""
    try:
        return served_file(shown_image(photo, size))
    except FileNotFoundError:
        raise Http404("This photo's file is missing.") from None


def shown_image(photo, size):
    """The photo's stored file of `size`: "original", or a display size ("display", "thumbnail"),
    made now for a photo stored before display images were."""
    if size == "original":
        return photo.image
    if not getattr(photo, size):
        store_display_images(photo)
    return getattr(photo, size)


def spend_allowance(seller, checked_photos):
    """Count the photos against the seller's allowance of the last 24 hours
    (CATALOG_SELLER_PHOTOS_PER_DAY, CATALOG_SELLER_MEGAPIXELS_PER_DAY): each costs worker time,
    whichever way it came, and stays spent when it is deleted. Raises OverQuota when they do not fit."""
    lock_seller(seller)
    since = timezone.now() - timedelta(days=1)
    AllowanceSpent.objects.filter(seller=seller, created__lt=since).delete()  # nothing counts them any more
    spent = AllowanceSpent.objects.filter(seller=seller).aggregate(photos=Sum("photos"), pixels=Sum("pixels"))
    photos, pixels = len(checked_photos), sum(checked.width * checked.height for checked in checked_photos)
    refusal = (_over(photos, spent["photos"] or 0, settings.CATALOG_SELLER_PHOTOS_PER_DAY, "photos")
               or _over(pixels / 1e6, (spent["pixels"] or 0) / 1e6, settings.CATALOG_SELLER_MEGAPIXELS_PER_DAY,
                        "megapixels of photos"))
    if refusal:
        earliest = AllowanceSpent.objects.filter(seller=seller).order_by("created").values_list("created", flat=True)
        frees = max(1, math.ceil(((earliest.first() or since) + timedelta(days=1) - timezone.now()).total_seconds()))
        raise OverQuota(f"{refusal} More may follow in {duration_in_words(frees)}, when your earliest upload of "
                        "the last 24 hours stops counting.", frees)
    AllowanceSpent.objects.create(seller=seller, photos=photos, pixels=pixels)


def _over(wanted, spent, allowed, what):
    if spent + wanted <= allowed:
        return None
    return (f"A seller may upload {allowed:,} {what} in 24 hours; you may upload {max(0, allowed - spent):,.0f} "
            "more now.")
