"""The text on a product (vision.text): read with the OCR models inside the rapidocr wheel, folded
to plain words, and used to re-rank the visual vote between look-alike variants."""

from PIL import Image

from tests.photos import grocery_images
from vision.vote import Neighbour
from vision.text import Line, TextProfiles, TextReader, lines_within, suggest_title, words_of, words_read
from vision.vote import VoteConfig, vote

VANILLA = ("Packages", "Yoghurt", "Yoggi-Vanilla-Yoghurt")
NATURAL = ("Packages", "Yoghurt", "Yoggi-Natural-Yoghurt")
PROFILES = TextProfiles({VANILLA: ["yoggi", "original", "vanilj", "madagaskar"],
                         NATURAL: ["yoggi", "original", "naturell", "yoghurt"]})
WITH_TEXT = VoteConfig(temperature=None, text_weight=4.0)


def _tie():
    """Two neighbours, one of each variant, equally close: the picture alone cannot tell."""
    return [Neighbour(0, VANILLA, 0.8), Neighbour(1, NATURAL, 0.8)]


def test_words_are_folded_to_plain_lower_case():
    assert words_of("MJÖLK 1,5% Äpple-Juice ok") == ["mjolk", "apple", "juice"]


def test_the_text_on_a_package_photo_is_read():
    with Image.open(grocery_images("val", "Packages/Yoghurt/Yoggi-Vanilla-Yoghurt", 1)[0]) as photo:
        lines = TextReader().read(photo)
    assert "vanilj" in words_read(lines) and all(0 <= line.score <= 1 for line in lines)
    assert any("vanilj" in line.text.lower() and line.box[2] > line.box[0] for line in lines)


def test_the_text_breaks_a_tie_between_two_variants():
    assert vote(_tie(), WITH_TEXT).path == ("Packages", "Yoghurt")  # the picture alone stops above the leaf
    similarities = PROFILES.similarities(["vanil", "yoggi"])  # a letter lost in the reading
    assert similarities[VANILLA] > similarities[NATURAL]
    assert vote(_tie(), WITH_TEXT, similarities).path == VANILLA


def test_nothing_read_leaves_the_vote_as_the_picture_made_it():
    assert PROFILES.similarities([]) == {}
    neighbours = [Neighbour(0, NATURAL, 0.9), Neighbour(1, VANILLA, 0.7), Neighbour(2, NATURAL, 0.6)]
    assert (vote(neighbours, WITH_TEXT, PROFILES.similarities([]))
            == vote(neighbours, VoteConfig(temperature=None)))


def test_text_never_brings_a_category_no_neighbour_voted_for():
    neighbours = [Neighbour(0, NATURAL, 0.9)]
    assert vote(neighbours, WITH_TEXT, PROFILES.similarities(["vanilj"])).path == NATURAL


def test_a_title_is_made_of_the_largest_confident_print():
    lines = [Line("mild & creamy", 0.95, (0, 60, 100, 80)), Line("ALPRO", 0.99, (0, 0, 100, 60)),
             Line("12,90 kr", 0.99, (0, 0, 10, 90)), Line("VANILLA", 0.4, (0, 0, 100, 99)), Line("alpro", 0.9, (0, 0, 9, 9))]
    assert suggest_title(lines) == "Alpro Mild Creamy"
    assert suggest_title([]) == ""


def test_an_items_text_is_the_lines_centred_in_its_box():
    inside, across, outside = (Line("in", 1.0, (10, 10, 30, 20)), Line("half", 1.0, (40, 10, 80, 20)),
                               Line("out", 1.0, (200, 200, 220, 210)))
    assert lines_within([inside, across, outside], (0, 0, 50, 50)) == [inside]
