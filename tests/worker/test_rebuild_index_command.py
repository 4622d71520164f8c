import io

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from catalog.models import ReferenceImage
from vision.index import ReferenceIndex
from worker.models_cache import models

pytestmark = pytest.mark.django_db


def _rebuild(*args):
    out = io.StringIO()
    call_command("rebuild_index", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_it_rebuilds_the_index_from_the_database(imported_catalogue, settings):
    settings.CATALOG_INDEX_PATH.unlink()
    output = _rebuild()
    index = ReferenceIndex.load(settings.CATALOG_INDEX_PATH)
    assert len(index) == ReferenceImage.objects.count() == 24 and "24 references" in output
    assert index.head is not None  # heatmaps work straight away


def test_re_embed_replaces_damaged_stored_embeddings(imported_catalogue):
    ReferenceImage.objects.update(embedding=np.zeros(1280, np.float32).tobytes())
    _rebuild("--re-embed")
    stored = [np.frombuffer(e, np.float32) for e in ReferenceImage.objects.values_list("embedding", flat=True)]
    assert all(abs(np.linalg.norm(e) - 1) < 1e-4 for e in stored)
    assert models.categorizer().index.labelled_vectors()[0].any()


def test_a_re_embed_with_a_backbone_that_cannot_be_loaded_forgets_no_embedding(imported_catalogue):
    # Every stored embedding was blanked before the name was checked.
    with pytest.raises(CommandError, match="no_such_backbone"):
        _rebuild("--re-embed", "--backbone", "no_such_backbone")
    assert not ReferenceImage.objects.filter(embedding_version="").exists()


def test_it_says_plainly_when_the_index_has_no_calibration(imported_catalogue):
    output = _rebuild()
    assert "NO calibration: 24 of its 24 references are photos its embedder did not train on (at least 30 are " \
           "needed)" in output and "nothing will be accepted automatically" in output


def test_it_says_what_the_calibration_rests_on(calibrated_catalogue):
    assert "Its confidence is calibrated on 72 left-out references the embedder did not train on." in _rebuild()
