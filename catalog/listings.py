"""Creating a listing with its photos: the one way the upload form and the API both do it."""

from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from worker.tasks import enqueue_photo

from .models import Listing, Photo


def create_listing(seller, title, checked_photos, **fields):
    """A listing with its checked photos stored; each photo is queued once the listing is saved."""
    with transaction.atomic():
        listing = Listing.objects.create(seller=seller, title=title, **fields)
        for checked in checked_photos:
            photo = Photo(listing=listing, original_name=checked.upload.name[:255],
                          width=checked.width, height=checked.height)
            photo.image.save(f"photo.{checked.extension}", checked.upload, save=True)
            transaction.on_commit(partial(enqueue_photo, photo.id))
    return listing


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
