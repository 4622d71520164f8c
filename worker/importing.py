"""Importing a folder-tree catalogue as categories and reference images, then indexing it."""

import os
from dataclasses import dataclass, field

from django.core.files import File
from django.db import transaction
from tqdm import tqdm

from catalog.models import Category, ReferenceImage
from vision.catalogue import scan_catalogue
from vision.content_keys import CONTENT_KEY_HEX, file_digest
from vision.images import InvalidImage, load_image

from .indexing import index_backbone, index_is_stale, rebuild_index
from .models_cache import models


@dataclass
class ImportReport:
    found: int = 0
    added: int = 0
    already_imported: int = 0
    unreadable: list = field(default_factory=list)  # [(path, reason)]
    index: object = None  # the ReferenceIndex built, when the import rebuilt it


def import_catalogue(directories, backbone_name=None, show_progress=False):
    """Import every new image under the folders `directories`; rebuild the index (once) if anything
    changed.

    The index is built with `backbone_name` if given (and rebuilt if it has another, or if its
    backbone's weights changed since: index_is_stale), else it keeps its backbone. Raises
    FileNotFoundError, importing nothing, if a folder does not exist. Idempotent: a file whose
    content was imported before is skipped.
    """
    images = [image for directory in directories for image in scan_catalogue(directory)]
    if backbone_name:
        models.embedder(backbone_name)  # a name that cannot be loaded is refused before anything is imported
    report = ImportReport(found=len(images))
    known_keys = set(ReferenceImage.objects.filter(source=ReferenceImage.Source.IMPORT)
                     .values_list("source_key", flat=True))
    for image in tqdm(images, desc="importing", unit="img", disable=not show_progress):
        digest = file_digest(image.path)
        key = "sha256:" + digest
        if key in known_keys:
            report.already_imported += 1
            continue
        try:
            load_image(image.path)
        except InvalidImage as error:
            report.unreadable.append((image.path, str(error)))
            continue
        _create_reference(image, key, digest[:CONTENT_KEY_HEX])
        known_keys.add(key)
        report.added += 1
    current = index_backbone()
    # No worker can serve a stale index, so its rebuild is not a switch that the check may refuse.
    stale = index_is_stale()
    if images and (report.added or current is None or backbone_name not in (None, current) or stale):
        report.index, unreadable = rebuild_index(backbone_name, show_progress=show_progress, force=stale)
        report.unreadable.extend(unreadable)
    return report


def _create_reference(image, key, content_key):
    with transaction.atomic(), open(image.path, "rb") as handle:
        category = Category.objects.get_or_create_path(image.category)
        reference = ReferenceImage(category=category, source=ReferenceImage.Source.IMPORT, source_key=key,
                                   content_key=content_key)
        reference.image.save(os.path.basename(image.path), File(handle), save=True)
