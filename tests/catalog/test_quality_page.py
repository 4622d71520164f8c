import html
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Category, Item, Outcome, ReviewDecision

pytestmark = pytest.mark.django_db


@pytest.fixture
def predicted_item(make_item):
    """An item the model put in `path` (its full predicted path), with `outcome`."""
    def make(path, outcome=Outcome.NEEDS_REVIEW, accepted_depth=0):
        item = make_item(path, outcome=outcome, accepted_depth=accepted_depth, predicted_path=path or "")
        item.predicted_category = item.category
        item.save()
        return item
    return make


@pytest.fixture
def decided(staff_client, predicted_item):
    """Six items decided through the review pages:
    - Banana accepted automatically, and staff accepted it (right);
    - Banana accepted automatically, staff moved it to Plantain (wrong);
    - Apple > Pink-Lady accepted at Apple, staff moved it to Apple > Royal-Gala (wrong, but the
      accepted part right);
    - Carrots needing review, staff accepted (right);
    - Carrots needing review, staff moved to Plantain (wrong);
    - said "not in the catalogue" and staff agreed (right);
    and one Carrots item nobody has decided about."""
    Category.objects.get_or_create_path(["Fruit", "Plantain"])
    Category.objects.get_or_create_path(["Fruit", "Apple", "Royal-Gala"])

    def correct(item, path):
        staff_client.post(f"/review/items/{item.uuid}/correct", {"category": path})

    staff_client.post(f"/review/items/{predicted_item('Fruit > Banana', Outcome.ACCEPTED, 2).uuid}/accept")
    correct(predicted_item("Fruit > Banana", Outcome.ACCEPTED, 2), "Fruit > Plantain")
    correct(predicted_item("Fruit > Apple > Pink-Lady", Outcome.ACCEPTED_AT_PARENT, 2), "Fruit > Apple > Royal-Gala")
    staff_client.post(f"/review/items/{predicted_item('Vegetables > Carrots').uuid}/accept")
    correct(predicted_item("Vegetables > Carrots"), "Fruit > Plantain")
    outside = predicted_item(None, Outcome.NOT_IN_CATALOGUE)
    staff_client.post(f"/review/items/{outside.uuid}/not-in-catalogue")
    predicted_item("Vegetables > Carrots")
    assert ReviewDecision.objects.count() == 6


def _table(page, table_id):
    """The rows of a table on the page, each as its cells' text."""
    body = re.search(rf'<table[^>]*id="{table_id}".*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    cells = [re.findall(r"<td>(.*?)</td>", row, re.S) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]
    return [[html.unescape(re.sub(r"<[^>]+>|\s+", " ", cell)).strip() for cell in row] for row in cells]


def test_its_figures_match_the_decisions_staff_made(staff_client, decided):
    page = staff_client.get("/review/quality/").content.decode()
    assert re.search(r"50%</span>\s*<span class=\"label\">right, of 6 reviewed items", page)  # 3 of 6
    assert re.search(r"29%</span>\s*<span class=\"label\">accepted automatically, of 7 items", page)  # 2 of 7
    assert _table(page, "auto-accept") == [["The whole path", "2", "29%", "2", "50.0%"],
                                           ["A parent category", "1", "14%", "1", "100.0%"]]
    assert _table(page, "by-category")[:2] == [["Fruit > Plantain", "2", "0", "0%"],
                                               ["Fruit > Apple > Royal-Gala", "1", "0", "0%"]]
    assert ["Vegetables > Carrots", "1", "1", "100%"] in _table(page, "by-category")
    assert ["Set aside: not in the catalogue, or not a product", "1", "1", "100%"] in _table(page, "by-category")
    most = _table(page, "most-corrected")
    assert most[0][:3] == ["Fruit > Apple > Pink-Lady", "1 of 1", "Fruit > Apple > Royal-Gala (1)"]
    assert ["Fruit > Banana", "1 of 2", "Fruit > Plantain (1)", "Waiting with this guess"] in most
    # Its link opens the queue on the items waiting with that guess: here the one Carrots nobody decided.
    assert 'href="/review/?predicted=Vegetables%20%3E%20Carrots&amp;below=left_out&amp;review=pending"' in page
    linked = staff_client.get("/review/", {"predicted": "Vegetables > Carrots", "below": "left_out",
                                           "review": "pending"}).content.decode()
    assert "1 item." in linked
    this_week = _table(page, "by-week")[0]
    assert this_week[1:] == ["6", "50%"]


def test_it_shows_the_queue_and_links_into_it(staff_client, decided, make_item):
    page = staff_client.get("/review/quality/").content.decode()
    assert _table(page, "queue") == [["Needs review", "1", "0 minutes ago"]]
    assert 'href="/review/?outcome=needs_review&amp;review=pending"' in page
    assert 'href="/review/?category=Fruit%20%3E%20Plantain&amp;below=left_out&amp;review=decided"' in page
    linked = staff_client.get("/review/", {"category": "Fruit > Plantain", "below": "left_out",
                                           "review": "decided"}).content.decode()
    assert "2 items." in linked
    # A Reviewed count opens the queue with as many items: those decided, not the one still waiting.
    assert _table(page, "auto-accept")[0][3] == "2" and 'href="/review/?outcome=accepted&amp;review=decided"' in page
    linked = staff_client.get("/review/", {"outcome": "accepted", "review": "decided"}).content.decode()
    assert "2 items." in linked


def test_a_category_row_opens_the_queue_with_its_own_items_not_those_under_it(staff_client, make_item):
    """Staff may settle on a parent (a variety they cannot tell): its row counts those items only."""
    for path in ("Fruit > Apple", "Fruit > Apple > Granny-Smith", "Fruit > Apple > Granny-Smith",
                 "Fruit > Apple-Pie"):
        make_item(path, review=Item.Review.ACCEPTED)
    page = staff_client.get("/review/quality/").content.decode()
    apple = next(row for row in _table(page, "by-category") if row[0] == "Fruit > Apple")
    assert apple[1] == "1"
    linked = staff_client.get("/review/", {"category": "Fruit > Apple", "below": "left_out",
                                           "review": "decided"}).content.decode()
    assert "1 item." in linked


def test_it_counts_how_long_the_queue_has_waited(staff_client, make_item, listing):
    make_item("Fruit > Banana")
    listing.photos.update(created=timezone.now() - timedelta(days=3))
    page = staff_client.get("/review/quality/").content.decode()
    assert "waiting for review, the oldest for 3\xa0days" in page


def test_the_queue_counts_what_waits_for_a_person_each_row_opening_as_many(staff_client, make_item):
    make_item("Fruit > Banana", outcome=Outcome.NEEDS_REVIEW)
    make_item("Fruit > Pear", outcome=Outcome.ACCEPTED, audit=True)  # an audit to label
    make_item("Fruit > Kiwi", outcome=Outcome.ACCEPTED)  # accepted whole: waits for nobody
    page = staff_client.get("/review/quality/").content.decode()
    rows = _table(page, "queue")
    assert [row[:2] for row in rows] == [["Audits to label", "1"], ["Needs review", "1"]]
    assert "2 items waiting" in page
    for query in ({"audit": "only"}, {"outcome": "needs_review"}):
        assert "1 item." in staff_client.get("/review/", {**query, "review": "pending"}).content.decode()


def test_with_no_decisions_it_says_so(staff_client):
    page = staff_client.get("/review/quality/").content.decode()
    assert "No review decisions yet." in page and "Nothing is waiting for review." in page


def test_staff_find_it_in_the_navigation(staff_client):
    assert 'href="/review/quality/"' in staff_client.get("/review/").content.decode()


def test_it_says_plainly_when_the_index_answering_photos_has_no_calibration(staff_client, make_item):
    make_item("Fruit > Banana", calibrated=True)
    assert 'id="no-calibration"' not in staff_client.get("/review/quality/").content.decode()
    make_item("Fruit > Banana", calibrated=False)  # the index answering now has none
    page = staff_client.get("/review/quality/").content.decode()
    assert 'id="no-calibration"' in page and "Nothing is being accepted automatically" in page


def test_a_whole_path_accepted_is_wrong_when_staff_settle_on_its_parent(staff_client, predicted_item):
    # The model accepted the leaf by itself; staff say only "Fruit" is right: the audits count that as
    # a wrong acceptance, and so does this table (it counted it right).
    item = predicted_item("Fruit > Banana", Outcome.ACCEPTED, 2)
    staff_client.post(f"/review/items/{item.uuid}/correct", {"category": "Fruit"})
    page = staff_client.get("/review/quality/").content.decode()
    assert _table(page, "auto-accept")[0] == ["The whole path", "1", "100%", "1", "0.0%"]


def test_audit_rows_say_whether_the_target_is_met_below_or_not_yet_shown(staff_client, make_item, staff):
    from catalog.review import decide

    for _ in range(2):
        audit = make_item("Fruit > Banana", outcome=Outcome.ACCEPTED, accepted_depth=2,
                          predicted_path="Fruit > Banana", audit=True)
        decide(audit, audit.category, staff)
    page = staff_client.get("/review/quality/").content.decode()
    rows = re.findall(r'<tr class="(\w+)"><td>Fruit</td><td>2</td>.*?</tr>', page, re.S)
    assert rows == ["unproven"]  # two right of two: the interval still holds 98 %
    table = _table(page.replace(' class="unproven"', ""), "live-precision")
    fruit_leaf = [cells for cells in table if cells[:2] == ["Fruit", "2"]]
    assert fruit_leaf == [["Fruit", "2", "2", "100.0%", "15.8%–100.0%", "Not yet shown"]]


def test_an_intervals_ends_compare_with_the_target_as_the_exact_ones_do():
    # (0.158 is 158.00000000000003 tenths of a percent: rounded down, still 15.8 %.)
    from catalog.text import percent

    assert percent(0.97961, "down") == "97.9%"  # an end below 98 % never reads 98.0 %
    assert percent(0.98001, "down") == "98.0%" and percent(0.98, "down") == "98.0%"  # one at or above it does
    assert percent(0.158) == "15.8%" and percent(0.9796) == "98.0%" and percent(None) == "–"
