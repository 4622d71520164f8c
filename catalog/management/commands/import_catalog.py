import hashlib
import os
import sys

from django.conf import settings
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from catalog.models import Category, ReferenceImage
from vision.catalogue import scan_catalogue
from vision.images import InvalidImage, load_image
from vision.index import read_manifest
from worker.indexing import rebuild_index


class Command(BaseCommand):
    help = (
        "Import a folder-tree catalogue (Fruit/Apple/Granny-Smith/*.jpg: the folder path is the "
        "category path) as categories and reference images, then rebuild the index. Files already "
        "imported (same content) are skipped; unreadable files are reported, not fatal."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory")

    def handle(self, directory, **options):
        try:
            images = scan_catalogue(directory)
        except FileNotFoundError as error:
            raise CommandError(str(error)) from error
        if not images:
            raise CommandError(f"No images found under {directory} (expected Category/Subcategory/*.jpg).")
        added, known, unreadable = self._import(images)
        if added or not _index_is_current():
            _, unembeddable = rebuild_index(show_progress=True)
            unreadable.extend(unembeddable)
        self._report(len(images), added, known, unreadable)

    def _import(self, images):
        known_keys = set(ReferenceImage.objects.filter(source=ReferenceImage.Source.IMPORT)
                         .values_list("source_key", flat=True))
        added, known, unreadable = 0, 0, []
        for image in tqdm(images, desc="importing", unit="img", file=sys.stderr):
            key = _content_key(image.path)
            if key in known_keys:
                known += 1
                continue
            try:
                load_image(image.path)
            except InvalidImage as error:
                unreadable.append((image.path, str(error)))
                continue
            _create_reference(image, key)
            known_keys.add(key)
            added += 1
        return added, known, unreadable

    def _report(self, total, added, known, unreadable):
        for path, reason in unreadable:
            self.stderr.write(f"skipped {path}: {reason}")
        self.stdout.write(self.style.SUCCESS(
            f"{total} images found: {added} imported, {known} already imported, {len(unreadable)} unreadable. "
            f"The catalogue has {Category.objects.count()} categories and "
            f"{ReferenceImage.objects.count()} reference images."
        ))


def _index_is_current():
    """An index exists and was built by the configured backbone (else it must be rebuilt)."""
    if not os.path.exists(settings.CATALOG_INDEX_PATH):
        return False
    return read_manifest(settings.CATALOG_INDEX_PATH)["backbone"] == settings.CATALOG_BACKBONE


def _content_key(path):
    with open(path, "rb") as handle:
        return "sha256:" + hashlib.sha256(handle.read()).hexdigest()


def _create_reference(image, key):
    with transaction.atomic(), open(image.path, "rb") as handle:
        category = Category.objects.get_or_create_path(image.category)
        reference = ReferenceImage(category=category, source=ReferenceImage.Source.IMPORT, source_key=key)
        reference.image.save(os.path.basename(image.path), File(handle), save=True)
