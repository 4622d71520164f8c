import datetime
import re

import pytest

from catalog.models import Item, Outcome

pytestmark = pytest.mark.django_db


def test_staff_see_what_needs_review_first_the_riskiest_first(staff_client, make_item):
    make_item("Fruit > Banana", 0.99, outcome=Outcome.ACCEPTED, risk=0.01)
    make_item("Fruit > Pear", 0.9, outcome=Outcome.ACCEPTED_AT_PARENT, risk=0.3)
    make_item("Vegetables > Carrots", 0.7, outcome=Outcome.NEEDS_REVIEW, risk=0.3)
    make_item("Fruit > Apple", 0.6, outcome=Outcome.NEEDS_REVIEW, risk=0.6)
    response = staff_client.get("/review/")
    rows = _rows(response)
    order = [rows.index(f"{name} <small") for name in ("Apple", "Carrots", "Pear", "Banana")]
    assert order == sorted(order)
    # The accepted one waits for nobody (the Quality page counts 3 waiting): said apart.
    assert "4 items; 1 of them accepted whole by the model, waiting for nobody (listed last)." in \
        response.content.decode()


def test_the_risk_on_each_card_is_the_one_the_queue_is_ordered_by(staff_client, make_item):
    # The carrots' shown level is surer than the apple's, but its best guess, one level finer, is not.
    make_item("Fruit > Apple", 0.7, outcome=Outcome.NEEDS_REVIEW, calibrated=True, risk=0.4,
              predicted_path="Fruit > Apple > Pink-Lady")
    make_item("Vegetables > Carrots", 0.9, outcome=Outcome.NEEDS_REVIEW, calibrated=True, risk=0.6,
              predicted_path="Vegetables > Carrots > Organic")
    page = staff_client.get("/review/").content.decode()
    assert page.index("risk 60%") < page.index("risk 40%")


def test_it_filters_by_outcome(staff_client, make_item):
    make_item("Fruit > Banana", outcome=Outcome.ACCEPTED)
    make_item(None, outcome=Outcome.NOT_IN_CATALOGUE)
    page = staff_client.get("/review/", {"outcome": "not_in_catalogue"}).content.decode()
    assert "1 item." in page and "Not in the catalogue" in page


def test_it_shows_pending_items_by_default(staff_client, make_item):
    make_item("Fruit > Banana", 0.5, review=Item.Review.ACCEPTED)
    make_item("Vegetables > Carrots", 0.9)
    page = staff_client.get("/review/").content.decode()
    assert "Carrots" in page and "1 item." in page


def test_it_filters_by_category_subtree(staff_client, make_item):
    make_item("Fruit > Apple > Granny-Smith")
    make_item("Fruit > Banana")
    make_item("Vegetables > Carrots")
    rows = _rows(staff_client.get("/review/", {"category": "Fruit", "review": ""}))
    assert "Granny-Smith" in rows and "Banana" in rows and "Carrots" not in rows


def test_a_whole_path_finds_that_category_and_those_under_it_only(staff_client, make_item):
    for path in ("Fruit > Apple", "Fruit > Apple > Granny-Smith", "Fruit > Apple-Pie", "Apple-Juice"):
        make_item(path)
    page = staff_client.get("/review/", {"category": "fruit > apple"}).content.decode()
    assert "2 items." in page and "Granny-Smith" in _rows_of(page) and "Apple-Pie" not in _rows_of(page)
    # Categories under it left out: the category itself; for part of a path, the highest that hold it.
    page = staff_client.get("/review/", {"category": "Fruit > Apple", "below": "left_out"}).content.decode()
    assert "1 item." in page and "Granny-Smith" not in _rows_of(page)
    page = staff_client.get("/review/", {"category": "apple", "below": "left_out"}).content.decode()
    assert "3 items." in page and "Granny-Smith" not in _rows_of(page) and "Apple-Pie" in _rows_of(page)


def test_a_top_level_category_as_written_finds_itself_not_every_path_holding_its_name(staff_client, make_item):
    # The Quality page's row "Fruit" opens the queue so: Dried fruit and Citrus > Grapefruit are not Fruit.
    for path in ("Fruit", "Fruit > Apple", "Dried fruit", "Citrus > Grapefruit"):
        make_item(path)
    page = staff_client.get("/review/", {"category": "Fruit", "below": "left_out"}).content.decode()
    assert "1 item." in page
    page = staff_client.get("/review/", {"category": "Fruit"}).content.decode()
    assert "2 items." in page and "Grapefruit" not in _rows_of(page)
    assert "4 items." in staff_client.get("/review/", {"category": "fruit"}).content.decode()  # typed: any part


def test_the_category_filter_takes_any_part_of_a_path_in_any_case(staff_client, make_item):
    make_item("Fruit > Apple > Granny-Smith")
    make_item("Fruit > Banana")
    rows = _rows(staff_client.get("/review/", {"category": "apple", "review": ""}))
    assert 'class="level">Granny-Smith' in rows and 'class="level">Banana' not in rows
    filter_input = re.search(r'<input[^>]*id="id_category"[^>]*>', staff_client.get("/review/").content.decode())
    assert 'list="category-paths"' in filter_input.group()  # the paths are offered as one types


def test_it_filters_by_confidence_band_seller_and_date(staff_client, make_item, owner):
    make_item("Fruit > Banana", 0.97)
    make_item("Vegetables > Carrots", 0.3)
    assert "1 item." in staff_client.get("/review/", {"band": "low"}).content.decode()
    assert "2 items." in staff_client.get("/review/", {"seller": owner.username.upper()}).content.decode()
    assert "0 items." in staff_client.get("/review/", {"seller": "nobody"}).content.decode()
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    assert "0 items." in staff_client.get("/review/", {"since": tomorrow.isoformat()}).content.decode()


def test_an_unknown_category_filter_says_so(staff_client, make_item):
    make_item()
    page = staff_client.get("/review/", {"category": "Toys"}).content.decode()
    assert "No category path holds “Toys”" in page and "0 items." in page


def test_each_row_shows_the_box_heatmap_path_and_references(staff_client, make_item):
    item = make_item("Fruit > Banana", 0.62, neighbours=[
        {"reference": "6f1c1d43-05b5-4a53-9a8e-6c3c1a6c1b7e", "path": "Fruit > Banana", "similarity": 0.8}])
    item.heatmap.save("heatmap.png", item.photo.image.file, save=True)
    page = staff_client.get("/review/").content.decode()
    assert f'href="/items/{item.uuid}/heatmap"' in page and 'class="box"' not in page  # whole-photo item
    # Without a calibration the percentage is a share of the vote, and its title says so.
    assert ('Banana <small title="the share of the similar reference images voting for this level (not a '
            'calibrated chance)">62%</small>') in page
    assert "/references/6f1c1d43-05b5-4a53-9a8e-6c3c1a6c1b7e/image" in page


def _rows(response):
    """The item rows of the page (the category picker lists every category above them)."""
    return _rows_of(response.content.decode())


def _rows_of(page):
    return page.split('id="review-items"')[1]


def test_the_second_page_keeps_the_default_filter(staff_client, make_item):
    for _ in range(21):
        make_item("Fruit > Banana", 0.5)
    make_item("Fruit > Banana", 0.1, review=Item.Review.ACCEPTED)
    page = staff_client.get("/review/", {"page": 2}).content.decode()
    assert "21 items." in page and "Page 2 of 2" in page


def test_a_seller_is_told_why_they_are_refused(owner_client):
    assert "Only catalogue staff can review items." in owner_client.get("/review/").content.decode()


def test_staff_see_the_text_read_on_an_item(staff_client, make_item):
    make_item("Packages > Yoghurt", text_read=[["yoggi", 0.99], ["VANILJ", 0.97]])
    page = staff_client.get("/review/").content.decode()
    assert "Text on the product: “yoggi” “VANILJ”" in page


def test_runners_up_with_almost_none_of_the_vote_are_not_offered_as_possible(staff_client, owner_client, make_item):
    item = make_item("Fruit > Banana", 0.9, alternatives=[
        {"path": "Fruit > Plantain", "category": None, "confidence": 0.08},
        {"path": "Vegetables > Carrots", "category": None, "confidence": 0.0004}])  # shown as "0 %"
    for page in (staff_client.get("/review/").content.decode(),
                 owner_client.get(f"/listings/{item.photo.listing.uuid}/").content.decode()):
        assert "Also possible" in page and "Plantain" in page and "Carrots" not in page
