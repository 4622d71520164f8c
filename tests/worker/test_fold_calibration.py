"""The shipped `grocery` trained on every labelled Grocery photo: an index of those photos is
calibrated on what its fold models said of them (vision.fold_predictions), not left uncalibrated."""

import io

import pytest
from django.core.management import call_command

from tests.photos import copy_small_catalogue
from vision.index import ReferenceIndex

pytestmark = pytest.mark.django_db


def test_an_index_of_photos_grocery_trained_on_is_calibrated_by_its_fold_models(tmp_path, settings):
    # Every Grocery train photo of three leaves: grocery trained on all of them, its fold models
    # not on those of train's held-out fifth.
    catalogue = copy_small_catalogue(tmp_path / "catalogue", "train", 200)
    out = io.StringIO()
    call_command("import_catalog", str(catalogue), "--backbone", "grocery_int8", stdout=out, stderr=io.StringIO())
    index = ReferenceIndex.load(settings.CATALOG_INDEX_PATH)
    assert index.trained_rows().all()  # nothing here that grocery did not train on
    calibration = index.calibration
    assert calibration is not None and calibration.queries >= 30
    assert calibration.source.startswith(
        f"{calibration.queries} references it trained on, as its fold models saw them (grocery_folds-")
    assert f"Its confidence is calibrated on {calibration.source}" in out.getvalue()


def test_an_index_of_trained_rows_calibrated_on_older_features_is_compacted_to_refit_it():
    from worker.indexing import compaction_due

    manifest = {"count": 900, "head_trained_on": 900, "trained_rows": 900, "applied_change": 0,
                "calibration": {"features": ["an older feature"]}}
    assert compaction_due(manifest)
    # None at all: the save that wrote it found nothing to fit on, and nothing has changed since.
    assert not compaction_due(manifest | {"calibration": None})


def test_a_switch_to_an_embedder_trained_on_every_reference_says_why_it_is_not_compared(imported_catalogue, caplog):
    import logging

    with caplog.at_level(logging.WARNING, logger="worker.indexing"):
        call_command("rebuild_index", "--backbone", "grocery_int8", stdout=io.StringIO(), stderr=io.StringIO())
    assert "Accuracy not compared: grocery-" in caplog.text and "trained on every reference here" in caplog.text
