"""Training an embedder on the catalogue's references: the task train_embedder_on_references (on
a GPU worker) and the command train_embedder both call train_on_references.
"""

from catalog.models import ReferenceImage
from vision.catalogue import CatalogueImage
from vision.training.embedder import train

from .indexing import rebuild_index


def train_on_references(options, rebuild=False):
    """Train the embedder `options.name` on the catalogue's references as `options`
    (vision.training.embedder.TrainingOptions) say.

    Returns the per-epoch history; with `rebuild`, the index is rebuilt with the new embedder.
    """
    references = ReferenceImage.objects.select_related("category").order_by("pk")
    history = train([CatalogueImage(r.image.path, r.category.names) for r in references], options)
    if rebuild:
        rebuild_index(options.name)
    return history
