"""Training from a bucket copies the references' photos to the host once (worker.training.local_path);
a reference deleted since (a seller's listing, whose item staff had made one of) leaves no copy behind
at the next training."""

import pytest
from django.core.files.base import ContentFile

from catalog.models import Category, ReferenceImage
from worker.training import forget_copies_but, local_path

pytestmark = pytest.mark.django_db


def _reference(key):
    reference = ReferenceImage(category=Category.objects.get_or_create_path(["Fruit", "Apple"]),
                               source=ReferenceImage.Source.REVIEW, source_key=key)
    reference.image.save(f"{key}.jpg", ContentFile(b"jpeg bytes"), save=True)
    return reference


def test_a_deleted_references_copy_goes_at_the_next_training(s3_storage, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    kept, gone = _reference("kept"), _reference("gone")
    copies = [local_path(reference.image) for reference in (kept, gone)]
    assert all(open(copy, "rb").read() == b"jpeg bytes" for copy in copies)
    gone.delete()
    forget_copies_but(list(ReferenceImage.objects.all()))
    assert (tmp_path / "storage-copies" / kept.image.name).exists()
    assert not (tmp_path / "storage-copies" / gone.image.name).exists()
