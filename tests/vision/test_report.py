"""vision.report on tiny catalogues of real photos: every section is there and shows what it says."""

import html
import json
import os
import re
import shutil

import pytest
from PIL import Image

from tests.photos import copy_boxed_freiburg, copy_small_catalogue
from vision.report import SECTIONS, get_args_parser, main


def _report(args):
    main(get_args_parser().parse_args(args))
    out = args[args.index("--out") + 1]
    with open(os.path.join(out, "index.html"), encoding="utf-8") as handle:
        page = handle.read()
    return page, {name: re.search(rf"<section id='{name}'>(.*?)</section>", page, re.S).group(1) for name in SECTIONS}


def _images_of(section, out):
    """The images a section shows, each opened (so each is there and is an image)."""
    links = re.findall(r"<img src='([^']+)'", section)
    for link in links:
        with Image.open(os.path.join(out, link)) as image:
            image.verify()
    return links


@pytest.fixture
def mislabelled_catalogue(tmp_path):
    """(reference root, query root): 24 Grocery train photos per leaf, enough to calibrate, and
    three val photos per leaf as queries, one banana among them filed as carrots."""
    reference = copy_small_catalogue(tmp_path / "reference", "train", 24)
    queries = copy_small_catalogue(tmp_path / "queries", "val", 3)
    banana = sorted((queries / "Fruit" / "Banana").iterdir())[0]
    shutil.move(banana, queries / "Vegetables" / "Carrots" / "banana.jpg")
    return reference, queries


def test_the_report_of_a_small_catalogue_holds_every_section(mislabelled_catalogue, tmp_path, capsys):
    reference, queries = mislabelled_catalogue
    out = tmp_path / "report"
    page, sections = _report(["--reference", str(reference), "--queries", str(queries), "--out", str(out),
                              "--examples", "3"])
    figures = json.loads((out / "figures.json").read_text())
    assert figures["n_queries"] == 9 and figures["n_reference"] == 72
    assert f"{figures['accuracy_by_depth']['leaf']:.1%}" in sections["summary"]
    assert [link.rsplit("/", 1)[1] for link in _images_of(sections["confusion"], out)[:3]] == [
        "confusion-1.png", "confusion-2.png", "confusion-leaf.png"]
    confusions = html.unescape(sections["confusion"])
    assert re.search(r"<td>1</td><td>Vegetables > Carrots</td><td>Fruit > Banana</td>", confusions)
    assert "a reference of Fruit > Banana" in confusions  # the photo beside one of what it was taken for
    assert len(_images_of(sections["trust"], out)) == 2  # reliability, risk-coverage
    assert _images_of(sections["map"], out) == ["img/map.png"]
    heatmaps = html.unescape(sections["heatmaps"])
    wrong = heatmaps[heatmaps.index("Wrong answers"):]
    assert "true Vegetables > Carrots; answered Fruit > Banana" in wrong
    assert len(_images_of(sections["heatmaps"], out)) == 4  # three right, the one wrong
    assert len(_images_of(sections["segmentation"], out)) == 6  # twice --examples, spread over the queries
    assert "no labelled boxes were given" in sections["segmentation"]
    assert "report" in capsys.readouterr().err  # the progress bar


def test_with_cross_validation_and_labelled_boxes_it_draws_both(tmp_path):
    photos, instances, boxes = copy_boxed_freiburg(tmp_path)  # ten photos of two products, three of each boxed
    out = tmp_path / "report"
    page, sections = _report(["--reference", str(photos), "--cv", "2", "--instances", str(instances),
                              "--out", str(out), "--examples", "3"])
    assert "2-fold cross-validation" in page
    assert "Every reference photo where t-SNE" in sections["map"]  # the queries are references
    segmentation = html.unescape(sections["segmentation"])
    assert "Labelled boxes in green" in segmentation
    assert len(_images_of(sections["segmentation"], out)) == 6  # the six boxed photos
    found = re.search(r"(\d+) of (\d+) labelled products were found", segmentation)
    assert int(found.group(2)) == boxes and 0 < int(found.group(1)) <= boxes
    assert len(re.findall(r"<figcaption>\d+ of \d+ labelled found", segmentation)) == 6
