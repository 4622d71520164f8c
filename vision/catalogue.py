"""Folder-tree catalogues: the relative directory path of an image is its category path.

`Fruit/Apple/Granny-Smith/001.jpg` is a reference of Fruit > Apple > Granny-Smith. Leaves may
sit at different depths and names may contain spaces.
"""

import os
from dataclasses import dataclass

from .images import is_image_filename


@dataclass(frozen=True)
class CatalogueImage:
    path: str
    category: tuple  # category path, e.g. ("Fruit", "Apple", "Granny-Smith")


def scan_catalogue(root):
    """Every image file under `root` with its category path, in a stable order."""
    if not os.path.isdir(root):
        raise FileNotFoundError(f"Catalogue folder not found: {root}")
    found = []
    for directory, subdirectories, filenames in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith("."))
        category = _category_of(root, directory)
        found.extend(
            CatalogueImage(os.path.join(directory, name), category)
            for name in sorted(filenames)
            if category and is_image_filename(name)
        )
    return found


def _category_of(root, directory):
    relative = os.path.relpath(directory, root)
    return () if relative == os.curdir else tuple(relative.split(os.sep))


def format_path(category):
    return " > ".join(category)
