"""vision.evaluate_items on a tiny fixture: real Freiburg photos, two products, boxes from its file."""

import json

import numpy as np
import pytest

from tests.photos import copy_boxed_freiburg
from vision.evaluate_items import get_args_parser, main
from vision.items import item_figures

PRODUCTS = ("Drinks/Water", "Pantry/Beans")
REFERENCES_PER_PRODUCT, QUERIES_PER_PRODUCT = 10, 3


@pytest.fixture
def fixture(tmp_path):
    """(photos folder, instances file, boxes): a reference tree of two products, whose first photos
    are also the queries of a small instances file."""
    return copy_boxed_freiburg(tmp_path, PRODUCTS, REFERENCES_PER_PRODUCT, QUERIES_PER_PRODUCT)


def test_it_measures_items_and_decisions_and_keeps_queries_out_of_the_references(fixture, tmp_path, capsys):
    photos, instances, boxes = fixture
    figures = main(get_args_parser().parse_args([
        "--reference", str(photos), "--photos", str(photos), "--instances", str(instances),
        "--json", str(tmp_path / "out.json"), "--allow-seen"]))  # the detector trained on most of these
    assert json.loads((tmp_path / "out.json").read_text()) == json.loads(json.dumps(figures))
    queries = len(PRODUCTS) * QUERIES_PER_PRODUCT
    assert figures["n_photos"] == queries and figures["n_products"] == boxes
    assert figures["protocol"].endswith(f"against {len(PRODUCTS) * (REFERENCES_PER_PRODUCT - QUERIES_PER_PRODUCT)} "
                                        "reference photos")
    assert figures["one_product"]["n_photos"] + figures["several_products"]["n_photos"] == queries
    assert figures["main_item_accuracy"] > 0.5
    for key in ("item_recall", "item_precision", "item_accuracy"):
        assert 0 < figures[key] <= 1
    assert figures["items_per_photo"] >= 1  # the main item at least
    assert figures["segmenter"].startswith("detector_lite0") and figures["unlike_items"] == "dropped"
    printed = capsys.readouterr().out
    assert "item_recall" in printed
    assert f"WARNING: {figures['seen_by_item_finder']} photos were photos the item finder trained on" in printed


def test_photos_the_detector_trained_on_are_refused(fixture):
    """Its boxes there would flatter it (the detector records its training photos, as an embedder does)."""
    photos, instances, _ = fixture
    with pytest.raises(SystemExit, match=r"\d of the 6 photos are photos the item finder detector_lite0-.* was "
                                         r"trained on; .* --allow-seen"):
        main(get_args_parser().parse_args([
            "--reference", str(photos), "--photos", str(photos), "--instances", str(instances)]))


def test_an_unreadable_photo_is_named_and_the_rest_measured(fixture, tmp_path, capsys):
    photos, instances, _ = fixture
    broken = sorted((photos / PRODUCTS[0]).iterdir())[0]  # a query, and a reference
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    figures = main(get_args_parser().parse_args([
        "--reference", str(photos), "--photos", str(photos), "--instances", str(instances), "--segmenter", "none"]))
    assert figures["n_photos"] == len(PRODUCTS) * QUERIES_PER_PRODUCT - 1
    assert [s["path"] for s in figures["skipped"]].count(str(broken)) == 2  # as a reference and as a query
    assert broken.name in capsys.readouterr().err


def test_figures_count_matches_one_to_one_and_photos_by_how_many_products_they_show():
    # [labelled, found, matched, matched and right, main item right] per photo
    figures = item_figures(np.array([[1, 2, 1, 1, 1], [3, 2, 2, 1, 0], [0, 2, 0, 0, 0]]))  # the last: no box
    assert figures["item_recall"] == 3 / 4 and figures["item_precision"] == 3 / 6
    assert figures["item_accuracy"] == 2 / 3 and figures["main_item_accuracy"] == 1 / 2
    assert figures["items_per_photo"] == 2 and figures["products_per_photo"] == 4 / 3
    assert figures["unmatched_items"] == 3
