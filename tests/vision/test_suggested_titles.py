"""Suggested titles and the text shown keep only words (vision.text): on the Grocery iconic
packshots, as the app's OCR read them (kept in bench/results/titles-grocery-iconic.json by
bench.title_quality), most package titles name their product and no loose fruit or vegetable gets
a title; an OCR misreading is never a title word nor a line shown."""

import json
from pathlib import Path

from tests.photos import iconic_folder
from vision.catalogue import described_product_words, names_product
from vision.text import Line, is_readable, suggest_title

READS = Path(__file__).resolve().parents[2] / "bench" / "results" / "titles-grocery-iconic.json"


def test_package_titles_name_their_product_and_loose_produce_gets_none():
    root = Path(iconic_folder())
    named, packages, produce_titled = 0, 0, []
    for name, photo in json.loads(READS.read_text())["photos"].items():
        title = suggest_title([Line(text, score, tuple(box)) for text, score, box in photo["lines"]])
        if photo["package"]:
            packages += 1
            named += names_product(title, described_product_words((root / name).parent))
        elif title:
            produce_titled.append((name, title))
    assert packages >= 30 and named / packages >= 0.8, f"{named} of {packages}"
    assert produce_titled == []


def test_a_misreading_is_left_out_of_the_title():
    lines = [Line("BRAVO", 0.99, (0, 0, 200, 80)), Line("Crpulet", 0.95, (0, 90, 200, 160)),
             Line("ÄPPLE JUICE", 0.97, (0, 170, 200, 220))]
    assert suggest_title(lines) == "Bravo Äpple Juice"


def test_nothing_but_misreadings_is_no_title():
    assert suggest_title([Line("Betacla", 0.93, (0, 0, 100, 50)), Line("SITAGIS", 0.9, (0, 60, 100, 90))]) == ""


def test_a_junk_line_is_not_shown_and_a_true_one_is():
    assert not is_readable("Katanlige gad fin dig", 0.9)
    assert not is_readable("IDVINOUS", 0.95)
    assert not is_readable("12%", 0.99)  # nothing to read
    assert not is_readable("YOGHURT", 0.3)  # read without confidence
    assert is_readable("MILD YOGHURT", 0.95) and is_readable("12%FETT-3 DL", 0.9)
