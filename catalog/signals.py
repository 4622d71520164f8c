"""Stored files go with their rows: a deleted listing's photos and heatmaps, the heatmaps of items
a re-run of the worker replaces, a reference removed in the admin, a bulk job's archives, and so
everything of an account deleted in the admin (its rows go by cascade, each with its files). A
seller who deletes a listing expects its photos gone, and nothing else would ever remove them:
the references staff's decisions made of its items (crops of its photos) go with them too.

Every saved or deleted reference is a ReferenceChange, which running workers apply to their index;
a saved or deleted category is read again by the request that changed it (catalog.models.category_tree)."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import BulkJob, Category, Item, Photo, ReferenceChange, ReferenceImage, forget_category_tree
from .tasks import enqueue_index_update


def _delete_when_committed(field_file):
    """Remove the file once the deletion commits: a rolled-back deletion keeps its files. Robust:
    one file the storage fails to delete (logged) does not keep the others, nor the index update
    queued after them, from being done."""
    if field_file:
        storage, name = field_file.storage, field_file.name
        transaction.on_commit(lambda: storage.delete(name), robust=True)


@receiver(post_delete, sender=Photo)
def _delete_photo_files(sender, instance, **kwargs):
    for field_file in (instance.image, instance.display, instance.thumbnail):
        _delete_when_committed(field_file)


@receiver(post_delete, sender=ReferenceImage)
def _delete_image_file(sender, instance, **kwargs):
    _delete_when_committed(instance.image)


@receiver(post_save, sender=ReferenceImage)
@receiver(post_delete, sender=ReferenceImage)
def _record_reference_change(sender, instance, **kwargs):
    ReferenceChange.record([instance.pk])


@receiver(post_save, sender=Category)
@receiver(post_delete, sender=Category)
def _category_changed(sender, instance, **kwargs):
    forget_category_tree()


@receiver(post_delete, sender=Item)
def _delete_heatmap_file(sender, instance, **kwargs):
    _delete_when_committed(instance.heatmap)


@receiver(post_delete, sender=Item)
def _delete_reference_made_of_it(sender, instance, **kwargs):
    removed, _ = ReferenceImage.objects.made_of(instance).delete()
    if removed:
        transaction.on_commit(enqueue_index_update)


@receiver(post_delete, sender=BulkJob)
def _delete_bulk_files(sender, instance, **kwargs):
    for field_file in (instance.archive, instance.loose_photos):
        _delete_when_committed(field_file)
