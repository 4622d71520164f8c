"""Training an embedder on the catalogue's references: the task train_embedder_on_references (on
a GPU worker) and the command train_embedder both call train_on_references.
"""

from catalog.models import ReferenceImage
from vision.catalogue import CatalogueImage
from vision.training.train_embedder import get_args_parser, train

from .indexing import rebuild_index


def train_on_references(name, training_options=(), rebuild=False):
    """Train the embedder `name` on the catalogue's references, with the options of the training
    script (vision/training/train_embedder.py).

    Returns the per-epoch history; with `rebuild`, the index is rebuilt with the new embedder.
    """
    references = ReferenceImage.objects.select_related("category").order_by("pk")
    images = [CatalogueImage(r.image.path, r.category.names) for r in references]
    args = get_args_parser().parse_args(["--data", "the catalogue's reference images", "--name", name,
                                         *training_options])
    history = train(images, args)
    if rebuild:
        rebuild_index(name)
    return history
