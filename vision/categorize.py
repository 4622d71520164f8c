"""The one code path from photos to category assignments, shared by the worker and evaluation."""

from dataclasses import dataclass

import numpy as np
import torch
from tqdm import tqdm

from .images import InvalidImage, load_image
from .index import IndexMismatch, ReferenceIndex
from .vote import Assignment, VoteConfig, vote


@dataclass
class CategorizedImage:
    assignment: Assignment
    embedding: np.ndarray  # (D,) unit length
    feature_map: torch.Tensor  # (C, H, W), for the class-activation map


class Categorizer:
    def __init__(self, embedder, index, config=VoteConfig()):
        if index.backbone_version != embedder.weights.version:
            raise IndexMismatch(
                f"The category index was built with {index.backbone_version} but this worker runs "
                f"{embedder.weights.version}; staff must rebuild the index (manage.py import_catalog)."
            )
        self.embedder = embedder
        self.index = index
        self.config = config

    @property
    def model_version(self):
        return f"{self.embedder.weights.version}+index:{self.index.version}"

    def categorize(self, images):
        """Categorize a list of RGB PIL images (e.g. the items of one photo)."""
        batch = self.embedder.forward(images)
        neighbour_lists = self.index.search(batch.embeddings, self.config.k)
        return [
            CategorizedImage(vote(neighbours, self.config), embedding, feature_map)
            for neighbours, embedding, feature_map in zip(neighbour_lists, batch.embeddings, batch.feature_maps)
        ]


def load_images(paths, progress=None):
    """Load every readable image; return (images, loaded_paths, skipped [(path, reason)])."""
    images, loaded, skipped = [], [], []
    for path in paths:
        try:
            images.append(load_image(path))
            loaded.append(path)
        except (InvalidImage, OSError) as error:
            skipped.append((path, str(error)))
        if progress is not None:
            progress.update(1)
    return images, loaded, skipped


def build_index(catalogue_images, embedder, approximate_from=None, show_progress=True):
    """A ReferenceIndex of a scanned catalogue; reference ids are positions in the list.

    Returns (index, skipped) where skipped lists the unreadable files and why.
    """
    extra = {} if approximate_from is None else {"approximate_from": approximate_from}
    index = ReferenceIndex(embedder.dimension, embedder.weights.name, embedder.weights.version, **extra)
    skipped = []
    batch_size = embedder.batch_size
    with tqdm(total=len(catalogue_images), desc="references", unit="img", disable=not show_progress) as bar:
        for start in range(0, len(catalogue_images), batch_size):
            chunk = catalogue_images[start:start + batch_size]
            images, loaded, unreadable = load_images([c.path for c in chunk], bar)
            skipped.extend(unreadable)
            if images:
                loaded = set(loaded)
                ids = [start + i for i, c in enumerate(chunk) if c.path in loaded]
                index.add(embedder.embed(images), [catalogue_images[i].category for i in ids], ids)
    return index, skipped
