"""Creating a listing with its photos: the one way the upload form and the API both do it."""

from functools import partial

from django.db import transaction

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
