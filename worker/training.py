"""Training an embedder on the catalogue's references: the task train_embedder_on_references (on
a GPU worker) and the command train_embedder both call train_on_references. It needs PyTorch:
only the workers that take the training queue install it (requirements/training.txt).
"""

import shutil
from pathlib import Path

from django.conf import settings

from catalog.models import ReferenceImage
from vision.catalogue import CatalogueImage
from vision.onnx_export import export
from vision.onnx_runtime import onnx_path
from vision.training.embedder import train

from .indexing import rebuild_index

# The references a catalogue's training leaves out (in whole occasions) for the index to calibrate
# its confidence on: trained on all, an index has nothing unseen to calibrate on, and every answer
# then needs review.
HOLDOUT_FRACTION = 0.2


def train_on_references(options, rebuild=False):
    """Train the embedder `options.name` on the catalogue's references as `options`
    (vision.training.embedder.TrainingOptions) say.

    Returns the per-epoch history; with `rebuild`, the index is rebuilt with the new embedder.
    Training exports it for ONNX Runtime beside its weights; where the workers read their models
    from CATALOG_ONNX_DIR, it is exported there too.
    """
    references = list(ReferenceImage.objects.select_related("category").order_by("pk"))
    forget_copies_but(references)
    history = train([CatalogueImage(local_path(r.image), r.category.names) for r in references], options)
    if settings.CATALOG_ONNX_DIR:
        export(options.name, onnx_path(options.name, settings.CATALOG_ONNX_DIR))
    if rebuild:
        rebuild_index(options.name)
    return history


def forget_copies_but(references):
    """Delete the storage copies (local_path) of every file but these references': a reference
    deleted since (a seller's listing, whose item staff made one of) left its copy here for good."""
    folder = Path(settings.VAR_DIR) / "storage-copies"
    kept = {folder / reference.image.name for reference in references}
    for copy in folder.rglob("*") if folder.is_dir() else ():
        if copy.is_file() and copy not in kept:
            copy.unlink()


def local_path(field_file):
    """A path to a stored file: its own on disk; from a bucket (no paths there), a copy kept under
    CATALOG_VAR_DIR/storage-copies, made once (training reads every photo each epoch)."""
    try:
        return field_file.path
    except NotImplementedError:
        pass
    copy = Path(settings.VAR_DIR) / "storage-copies" / field_file.name
    if not copy.exists() or copy.stat().st_size != field_file.size:
        copy.parent.mkdir(parents=True, exist_ok=True)
        with field_file.open("rb") as stored, open(copy, "wb") as local:
            shutil.copyfileobj(stored, local, 1 << 20)
    return str(copy)
