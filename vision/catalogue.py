"""Folder-tree catalogues: the relative directory path of an image is its category path.

`Fruit/Apple/Granny-Smith/001.jpg` is a reference of Fruit > Apple > Granny-Smith. Leaves may
sit at different depths and names may contain spaces.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from .images import is_image_filename
from .text import words_of


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


PATH_SEPARATOR = " > "  # as the app writes a category's path (Fruit > Apple)


def format_path(category):
    return PATH_SEPARATOR.join(category)


def parse_path(path):
    """The category (a tuple of names) that format_path wrote as `path`."""
    return tuple(path.split(PATH_SEPARATOR)) if path else ()


def within(path, ancestor):
    """Whether the written `path` is `ancestor` or under it (never under "")."""
    return bool(ancestor) and (path == ancestor or path.startswith(ancestor + PATH_SEPARATOR))


def described_product_words(folder):
    """The words that name a Grocery-style packshot's product, from its *_Information.txt: its
    title, its brand ("Manufacturer and volume", before the comma) and the shop's name for it (the
    URL's last part, e.g. .../Mellanmjolk-Eko-1l-...: the package's own words, often Swedish where
    the title is English). Folded as vision.text.words_of folds; empty without the file."""
    information = next(iter(sorted(Path(folder).glob("*_Information.txt"))), None)
    if information is None:
        return set()
    fields = dict(line.split(":", 1) for line in information.read_text(errors="replace").splitlines() if ":" in line)
    slug = fields.get("URL", "").rstrip("/").rsplit("/", 1)[-1].replace("-", " ")
    return set(words_of(" ".join([fields.get("Title", ""), fields.get("Manufacturer and volume", "").split(",")[0],
                                  slug])))


def names_product(title, product_words):
    """Whether a suggested title holds a word naming the product: one of `product_words`, or
    (Swedish writes compounds) a part of four letters or more that one of them begins or ends with."""
    return any(word in product_words or (len(word) >= 4 and any(known.startswith(word) or known.endswith(word)
                                                                for known in product_words))
               for word in words_of(title))
