"""An index built with a trained embedder knows which references it trained on."""

import io

import pytest
from django.core.management import call_command

from catalog.models import ReferenceImage
from vision.index import ReferenceIndex, read_manifest
from vision.training.train_embedder import get_args_parser, main

pytestmark = pytest.mark.django_db


def test_the_references_an_embedder_trained_on_are_marked_and_never_calibrate(small_catalogue, tmp_path,
                                                                              monkeypatch, settings):
    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(tmp_path / "weights"))
    main(get_args_parser().parse_args([
        "--data", str(small_catalogue[0]), "--name", "tiny", "--epochs", "1", "--max-steps", "1",
        "--batch-size", "8", "--projection-dim", "64", "--workers", "0", "--holdout-fraction", "0.25",
        "--output-dir", str(tmp_path / "training"),
    ]))
    call_command("import_catalog", str(small_catalogue[0]), "--backbone", "tiny", stdout=io.StringIO(),
                 stderr=io.StringIO())
    index = ReferenceIndex.load(settings.CATALOG_INDEX_PATH)
    held_out = int((~index.trained_rows()).sum())
    assert 3 <= held_out <= 9 and len(index) == ReferenceImage.objects.count() == 24
    assert read_manifest(settings.CATALOG_INDEX_PATH)["trained_rows"] == 24 - held_out
    # "Not in the catalogue" is judged in frozen features, which no training has bent.
    assert index.has_novelty_space and index.novelty_vectors().shape == (24, 1280)
    # Too few photos it never saw to calibrate on: every answer will need review.
    assert index.calibration is None
