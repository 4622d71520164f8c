"""Take where they were taken out of the photos stored before uploads did (catalog.photo_metadata).

    python manage.py remove_photo_locations

Each stored original that still holds a location is stored again without it, under a new name,
the photo's row pointed at it and the old file deleted; the others are left as they are, so it
may be run again (it changes nothing the second time). A file that cannot be read is named and
left alone.
"""

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction

from catalog.models import Photo
from catalog.photo_metadata import may_hold_location, without_location
from vision.images import InvalidImage, decode_image


class Command(BaseCommand):
    help = "Remove the location metadata of the photos stored before uploads removed it."

    def handle(self, *args, **options):
        changed, unreadable = 0, []
        photos = Photo.objects.exclude(image="").only("pk", "image", "listing_id", "uuid")
        for photo in photos.iterator(chunk_size=500):
            try:
                changed += _stored_again_without_location(photo)
            except (OSError, InvalidImage) as error:
                unreadable.append(f"{photo.image.name}: {error}")
        for line in unreadable:
            self.stderr.write(f"left alone, could not be read: {line}")
        self.stdout.write(f"{changed} of {photos.count()} stored photos held where they were taken; they hold it "
                          f"no more.{f' {len(unreadable)} could not be read.' if unreadable else ''}")


def _stored_again_without_location(photo):
    """1 when `photo`'s original held a location and was stored again without it, else 0."""
    with photo.image.open("rb") as handle:
        data = handle.read()
    if not may_hold_location(data):  # as an upload since would have stored it, or as clean
        return 0
    clean, _ = without_location(data, decode_image(data, max_pixels=settings.CATALOG_MAX_PHOTO_PIXELS))
    if clean == data:
        return 0
    old = photo.image.name
    storage = photo.image.storage
    # A new name, not the old one overwritten: a worker reading the photo meanwhile reads one whole file.
    new = storage.save(old, ContentFile(clean))
    with transaction.atomic():
        pointed = Photo.objects.filter(pk=photo.pk, image=old).update(image=new)
    if not pointed:  # deleted (or given another file) meanwhile: the new copy belongs to nobody
        storage.delete(new)
        return 0
    transaction.on_commit(lambda: storage.delete(old))
    return 1
