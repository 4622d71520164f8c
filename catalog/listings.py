"""Creating a listing with its photos: the one way the upload form and the API both do it."""

from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import Listing, Outcome, Photo
from .photos import store_display_images
from .tasks import enqueue_photo


def create_listing(seller, title, checked_photos, **fields):
    """A listing with its checked photos stored; each photo is queued once the listing is saved."""
    with transaction.atomic():
        listing = Listing.objects.create(seller=seller, title=title, **fields)
        add_photos(listing, checked_photos)
    return listing


def add_photos(listing, checked_photos):
    """Store the checked photos as the listing's; each is queued once the transaction commits (its
    categorization then decides the listing again with it)."""
    with transaction.atomic():
        for checked in checked_photos:
            photo = Photo(listing=listing, original_name=checked.upload.name[:255],
                          width=checked.width, height=checked.height)
            # Its display copies are the worker's to make (an upload is answered sooner).
            photo.image.save(f"photo.{checked.extension}", checked.upload, save=True)
            transaction.on_commit(partial(enqueue_photo, photo.id))


def choose_category(listing, category):
    """The seller's own category for the listing: the one shown (accepted as it is, confidences
    kept) or another from the tree. New photos no longer change it; staff's review still does."""
    with transaction.atomic():
        listing = Listing.objects.select_for_update().get(pk=listing.pk)
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


def shown_image(photo, size):
    """The photo's stored file of `size`: "original", or a display size ("display", "thumbnail"),
    made now for a photo stored before display images were."""
    if size == "original":
        return photo.image
    if not getattr(photo, size):
        store_display_images(photo)
    return getattr(photo, size)


def photo_allowance(seller):
    """How many more photos the seller may upload today (CATALOG_SELLER_PHOTOS_PER_DAY, over the
    last 24 hours): each costs worker time, whichever way it comes."""
    since = timezone.now() - timedelta(days=1)
    return settings.CATALOG_SELLER_PHOTOS_PER_DAY - Photo.objects.filter(listing__seller=seller,
                                                                         created__gte=since).count()


def over_quota(count, allowance):
    """Why `count` more photos are refused with `allowance` left (photo_allowance), or None."""
    if count <= allowance:
        return None
    return (f"A seller may upload {settings.CATALOG_SELLER_PHOTOS_PER_DAY:,} photos in 24 hours; you may upload "
            f"{max(0, allowance):,} more now. The rest can follow later.")
