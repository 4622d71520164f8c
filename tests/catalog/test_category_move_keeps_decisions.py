"""A category moved in the tree after items and listings were decided: what sellers see follows the
tree as it is now, and each level keeps its own confidence (the leaf is not lost)."""

import pytest

from catalog import audits
from catalog.models import Category, Item, Listing
from catalog.review import decide
from worker.listings import update_listing_decision
from worker.tasks import categorize_photo

pytestmark = pytest.mark.django_db


def move(category_path, under_path):
    category = Category.objects.get(path=category_path)
    category.parent = Category.objects.get_or_create_path(under_path.split(" > "))
    category.save()


@pytest.fixture
def decided_lemon(listing, make_item):
    """A listing decided as Citrus > Lemon (90 %, 80 %), its item's best guess and heatmap Citrus >
    Orange, its runner-up Citrus > Lime."""
    orange = Category.objects.get_or_create_path(["Citrus", "Orange"])
    lime = Category.objects.get_or_create_path(["Citrus", "Lime"])
    item = make_item("Citrus > Lemon", 0.8, alternatives=[{"path": lime.path, "category": lime.pk,
                                                           "confidence": 0.15}],
                     predicted_path=orange.path, predicted_category=orange,
                     heatmap_category=orange.path, heatmap_of=orange, calibrated=True)
    item.confidences = [0.9, 0.8]
    item.save()
    Listing.objects.filter(pk=listing.pk).update(category=item.category, confidences=[0.9, 0.8], calibrated=True,
                                                 decided_lineage=item.decided_lineage, outcome="needs_review")
    return item


def test_the_listing_page_shows_the_moved_path_with_its_leaf(owner_client, listing, decided_lemon):
    move("Citrus", "Fruit")

    page = owner_client.get(f"/listings/{listing.uuid}/").content.decode()
    assert ('<span class="level">Fruit</span> <span class="sep">›</span> <span class="level">Citrus <small '
            'title="the chance this level is right">90%</small></span> <span class="sep">›</span> <span '
            'class="level">Lemon <small title="the chance this level is right">80%</small>') in page
    assert "Also possible: Fruit &gt; Citrus &gt; Lime" in page
    assert "the best guess is Fruit &gt; Citrus &gt; Orange" in page


def test_the_api_gives_a_confidence_for_each_level_of_the_moved_path(api, listing, decided_lemon):
    move("Citrus", "Fruit")

    body = api.get(f"/api/v1/listings/{listing.uuid}/").json()
    assert (body["category"], body["confidences"]) == ("Fruit > Citrus > Lemon", [None, 0.9, 0.8])
    item = body["photos"][0]["items"][0]
    assert item["confidences"] == [None, 0.9, 0.8]
    assert item["alternatives"] == [{"path": "Fruit > Citrus > Lime", "confidence": 0.15}]
    assert item["heatmap_category"] == item["predicted_path"] == "Fruit > Citrus > Orange"


def test_a_category_moved_up_keeps_the_confidences_of_its_own_levels(owner_client, listing, decided_lemon):
    lemon = Category.objects.get(path="Citrus > Lemon")
    lemon.parent = None
    lemon.save()

    assert Item.objects.get().levels() == [("Lemon", 0.8)]


def test_an_audit_after_a_move_is_judged_against_the_level_the_model_accepted(staff_client, staff, listing,
                                                                              make_item):
    audited = make_item("Citrus > Lemon", 0.99, outcome="accepted_at_parent", accepted_depth=1, audit=True,
                        predicted_path="Citrus > Lemon")
    Item.objects.filter(pk=audited.pk).update(predicted_category=audited.category)  # as the worker keeps it
    audited.refresh_from_db()
    Category.objects.get_or_create_path(["Citrus", "Lime"])
    decide(audited, Category.objects.get(path="Citrus > Lime"), staff)  # under Citrus: the accepted part was right
    move("Citrus", "Fruit")  # the model accepted Citrus, now Fruit > Citrus (not "Fruit", the first level now)
    page = staff_client.get("/review/", {"audit": "only", "review": ""}).content.decode()
    assert "The model had accepted Fruit &gt; Citrus;" in page
    [row] = [r for r in audits.live_precision(target=0.98) if r["level"] == 1 and r["top_level"] != audits.ALL]
    assert (row["audited"], row["right"]) == (1, 1)


def test_a_lineage_filled_from_staffs_correction_is_not_taken_for_the_models(staff_client, make_item):
    """Migration 0011 filled the decided lineage of items corrected before it from staff's category."""
    item = make_item("Vegetables > Carrots", 0.99, outcome="accepted_at_parent", accepted_depth=1, audit=True,
                     predicted_path="Fruit > Apple", review="corrected")
    Category.objects.get_or_create_path(["Fruit", "Apple"])
    assert item.model_accepted == "Fruit"
    [row] = [r for r in audits.live_precision(target=0.98) if r["level"] == 1 and r["top_level"] != audits.ALL]
    assert (row["audited"], row["right"]) == (1, 0)  # the model accepted Fruit; staff chose Carrots


def test_the_review_queue_labels_the_heatmap_with_the_current_path(staff_client, decided_lemon):
    move("Citrus", "Fruit")
    assert "Heatmap of Fruit &gt; Citrus &gt; Orange." in staff_client.get("/review/").content.decode()


def test_a_listing_decided_again_after_a_move_lands_in_the_moved_category(banana_photo, imported_catalogue):
    categorize_photo(banana_photo.id)
    move("Fruit", "Fresh produce")

    update_listing_decision(banana_photo.listing_id)

    assert Listing.objects.get().category.path == "Fresh produce > Fruit > Banana"


def test_runners_up_follow_the_tree_and_keep_those_it_never_held(listing, make_item):
    plantain = Category.objects.get_or_create_path(["Fruit", "Plantain"])
    item = make_item("Fruit > Banana", alternatives=[
        {"path": "Fruit > Plantain", "category": plantain.pk, "confidence": 0.2},
        {"path": "Fruit > Kiwi", "category": None, "confidence": 0.1}])
    move("Fruit", "Fresh produce")
    assert item.shown_alternatives() == [{"path": "Fresh produce > Fruit > Plantain", "confidence": 0.2},
                                         {"path": "Fruit > Kiwi", "confidence": 0.1}]
