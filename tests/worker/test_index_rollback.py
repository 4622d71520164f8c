"""Switching the embedder without downtime: `rebuild_index --backbone NAME` replaces the serving
index only once the new one is complete and checked (the same references, no less accurate on
those left out), keeps the one it replaced, and `rollback_index` puts that back."""

import io
import os

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from catalog.models import ReferenceImage
from vision.index import ReferenceIndex, read_manifest
from worker.indexing import SwitchRefused, check_switch
from worker.models_cache import models

pytestmark = pytest.mark.django_db


def _command(name, *args):
    out = io.StringIO()
    call_command(name, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_a_new_embedder_takes_over_and_rolling_back_puts_the_old_one_back(imported_catalogue, settings):
    path = settings.CATALOG_INDEX_PATH
    assert read_manifest(path)["backbone"] == "efficientnet_lite0"
    _command("rebuild_index", "--backbone", "grocery")
    assert models.categorizer().index.backbone_name == "grocery"
    kept = read_manifest(f"{path}.previous")
    assert kept["backbone"] == "efficientnet_lite0" and kept["count"] == 24

    output = _command("rollback_index")
    assert "Rolled back" in output and "24 references" in output
    assert models.categorizer().index.backbone_name == "efficientnet_lite0"
    assert read_manifest(f"{path}.previous")["backbone"] == "grocery"  # rolling back again undoes it


def test_rolling_back_with_nothing_to_roll_back_to_says_so(imported_catalogue, settings):
    with pytest.raises(CommandError, match="no previous index"):
        _command("rollback_index")
    assert read_manifest(settings.CATALOG_INDEX_PATH)["backbone"] == "efficientnet_lite0"


def _copy(index, vectors=None, keep=slice(None)):
    """An index of `index`'s references (those `keep` picks), with other `vectors` if given."""
    stored, labels = index.labelled_vectors()
    vectors = stored if vectors is None else vectors
    copy = ReferenceIndex(index.dimension, "other", "other-1")
    copy.add(vectors[keep], [index.categories[label] for label in labels[keep]], index.reference_ids()[keep],
             groups=index.row_groups()[keep])
    return copy


def test_a_less_accurate_index_is_refused(calibrated_catalogue):
    serving = models.categorizer().index
    unrelated = np.random.default_rng(0).normal(size=(len(serving), serving.dimension)).astype(np.float32)
    with pytest.raises(SwitchRefused, match="less accurate"):
        check_switch(serving, _copy(serving, unrelated / np.linalg.norm(unrelated, axis=1, keepdims=True)))
    check_switch(serving, _copy(serving))  # as accurate: taken


def test_an_index_lacking_references_is_refused(calibrated_catalogue):
    serving = models.categorizer().index
    with pytest.raises(SwitchRefused, match="lacks 1 of"):
        check_switch(serving, _copy(serving, keep=slice(1, None)))


def test_a_refused_switch_changes_nothing_workers_serve(imported_catalogue, settings):
    broken = ReferenceImage.objects.order_by("pk").first()
    broken.image.open("wb").write(b"not a photo any more")  # the new embedder cannot read it
    ReferenceImage.objects.filter(pk=broken.pk).update(content_key="")  # as a replaced file's
    serving = models.categorizer().index.backbone_version
    with pytest.raises(CommandError, match="lacks 1 of the serving index's references.*--force"):
        _command("rebuild_index", "--backbone", "grocery")
    assert models.categorizer().index.backbone_version == serving and len(models.categorizer().index) == 24
    assert set(ReferenceImage.objects.values_list("embedding_version", flat=True)) == {serving}
    assert not os.path.exists(f"{settings.CATALOG_INDEX_PATH}.previous")
