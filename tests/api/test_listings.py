import datetime

import pytest

from catalog.models import Category, Listing, Photo
from tests.photos import encoded_upload, exists, grocery_upload, raw_upload, with_heatmap

pytestmark = pytest.mark.django_db


def test_a_seller_creates_a_listing_with_photos(api, owner, imported_catalogue):
    response = api.post("/api/v1/listings/", {"title": "Bananas", "photos": [grocery_upload("Fruit/Banana")]})
    assert response.status_code == 201, response.json()
    body = response.json()
    listing = Listing.objects.get(uuid=body["uuid"])
    assert listing.seller == owner and body["title"] == "Bananas" and len(body["photos"]) == 1
    assert body["photos"][0]["status"] in ("queued", "done")


def test_a_bad_photo_is_a_field_error_and_nothing_is_created(api):
    response = api.post("/api/v1/listings/", {"title": "Mixed", "photos": [
        encoded_upload("fine.png"), raw_upload("broken.jpg", b"\xff\xd8\xff\xe0 not really a jpeg")]})
    assert response.status_code == 400
    [problem] = response.json()["errors"]["photos"]
    assert problem["file"] == "broken.jpg" and "not an image" in problem["reason"]
    assert not Listing.objects.exists() and not Photo.objects.exists()


def test_a_listing_needs_a_title_and_a_photo(api):
    response = api.post("/api/v1/listings/", {})
    assert response.status_code == 400 and set(response.json()["errors"]) == {"title", "photos"}
    assert response.json()["errors"]["photos"] == [{"file": "", "reason": "Choose at least one photo."}]


def test_too_many_photos_are_refused(api, settings):
    settings.CATALOG_MAX_PHOTOS_PER_LISTING = 2
    photos = [encoded_upload(f"{i}.png") for i in range(3)]
    response = api.post("/api/v1/listings/", {"title": "Many", "photos": photos})
    assert response.status_code == 400
    too_many = "A listing takes at most 2 photos; you chose 3."
    assert response.json()["errors"]["photos"] == [{"file": "", "reason": too_many}]


def test_json_is_refused_with_a_clear_error(api):
    response = api.post("/api/v1/listings/", {"title": "x"}, content_type="application/json")
    assert response.status_code == 415


def test_the_list_holds_only_the_sellers_own_listings(api, listing, outsider):
    Listing.objects.create(seller=outsider, title="Not mine")
    body = api.get("/api/v1/listings/").json()
    assert body["count"] == 1 and body["results"][0]["uuid"] == str(listing.uuid)


def test_the_list_filters_by_status_category_and_date(api, listing, make_item):
    make_item("Fruit > Apple > Granny-Smith")  # the listing's photo is done now
    assert api.get("/api/v1/listings/", {"status": "done"}).json()["count"] == 1
    assert api.get("/api/v1/listings/", {"status": "processing"}).json()["count"] == 0
    assert api.get("/api/v1/listings/", {"category": "Fruit"}).json()["count"] == 1
    Category.objects.get_or_create_path(["Vegetables"])
    assert api.get("/api/v1/listings/", {"category": "Vegetables"}).json()["count"] == 0
    tomorrow = (datetime.date.today() + datetime.timedelta(days=1)).isoformat()
    assert api.get("/api/v1/listings/", {"created_after": tomorrow}).json()["count"] == 0


def test_a_client_polls_for_listings_whose_category_changed(api, listing, make_item, staff,
                                                            django_capture_on_commit_callbacks):
    """An audit (or any review) that corrects an accepted listing changes its category: a client
    polling with updated_after learns of it."""
    from django.utils import timezone

    from catalog.review import decide

    item = make_item("Fruit > Banana", outcome="accepted", accepted_depth=2, predicted_path="Fruit > Banana",
                     audit=True)
    polled = timezone.now()
    assert api.get("/api/v1/listings/", {"updated_after": polled.isoformat()}).json()["count"] == 0
    with django_capture_on_commit_callbacks(execute=True):  # the listing's decision runs after the commit
        decide(item, Category.objects.get_or_create_path(["Fruit", "Pear"]), staff)
    changed = api.get("/api/v1/listings/", {"updated_after": polled.isoformat()}).json()
    assert changed["count"] == 1 and changed["results"][0]["category"] == "Fruit > Pear"
    assert api.get("/api/v1/listings/", {"updated_after": "yesterday"}).status_code == 400
    for beyond in ("9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+01:00"):  # no UTC time of years 1-9999
        refused = api.get("/api/v1/listings/", {"updated_after": beyond})
        assert refused.status_code == 400 and "out of range" in refused.json()["errors"]["updated_after"][0]


def test_a_seller_finds_a_listing_by_their_own_reference(api, owner, listing):
    Listing.objects.create(seller=owner, title="Blue mug", reference="SKU-2")
    body = api.get("/api/v1/listings/", {"reference": "SKU-2"}).json()
    assert body["count"] == 1 and (body["results"][0]["title"], body["results"][0]["reference"]) == ("Blue mug", "SKU-2")
    assert api.get("/api/v1/listings/", {"reference": "sku-2"}).json()["count"] == 0


def test_an_unknown_parameter_is_an_error_not_ignored(api, listing):
    response = api.get("/api/v1/listings/", {"refrence": "SKU-2"})
    assert response.status_code == 400 and "no such parameter" in response.json()["errors"]["refrence"][0]


def test_bad_filters_are_field_errors(api):
    response = api.get("/api/v1/listings/", {"status": "lost", "category": "Toys", "created_after": "soon"})
    assert response.status_code == 400 and set(response.json()["errors"]) == {"status", "category", "created_after"}


def test_a_category_typed_with_a_percent_sign_is_a_field_error_that_quotes_it(api):
    response = api.get("/api/v1/listings/", {"category": "b%eïn 100%"})
    assert response.status_code == 400
    assert response.json()["errors"]["category"] == ["There is no category “b%eïn 100%”; pick one from the list."]


def test_an_empty_filter_is_a_field_error_not_no_filter(api):
    response = api.get("/api/v1/listings/?status=&category=&created_before=")
    assert response.status_code == 400 and set(response.json()["errors"]) == {"status", "category", "created_before"}


@pytest.mark.parametrize("page", ["", "two", "-1", "0", "²"])
def test_a_page_that_is_not_a_number_is_a_field_error(api, page):
    response = api.get(f"/api/v1/listings/?page={page}")
    assert response.status_code == 400 and "page" in response.json()["errors"]


def test_a_listing_shows_its_items_with_paths_confidences_and_heatmaps(api, listing, make_item):
    item = make_item("Fruit > Banana", 0.8)
    item.heatmap.save("heatmap.png", item.photo.image.file, save=True)
    body = api.get(f"/api/v1/listings/{listing.uuid}/").json()
    [photo] = body["photos"]
    [shown] = photo["items"]
    assert body["status"] == "done" and shown["category"] == "Fruit > Banana"
    assert shown["confidences"] == [0.8, 0.8] and shown["heatmap_url"].endswith(f"/api/v1/items/{item.uuid}/heatmap")
    assert photo["image_url"].endswith(f"/api/v1/photos/{photo['uuid']}/image")


def test_another_sellers_listing_is_404(outsider_api, listing):
    assert outsider_api.get(f"/api/v1/listings/{listing.uuid}/").status_code == 404
    assert outsider_api.delete(f"/api/v1/listings/{listing.uuid}/").status_code == 404
    assert Listing.objects.filter(pk=listing.pk).exists()


def test_a_seller_deletes_a_listing(api, listing):
    assert api.delete(f"/api/v1/listings/{listing.uuid}/").status_code == 204
    assert not Listing.objects.exists()


def test_deleting_a_listing_removes_its_photo_and_heatmap_files(api, listing, make_item,
                                                                django_capture_on_commit_callbacks):
    photo, item = listing.photos.get(), with_heatmap(make_item())
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/v1/listings/{listing.uuid}/").status_code == 204
    assert not exists(photo.image) and not exists(item.heatmap)


def test_a_malformed_listing_id_is_404(api):
    assert api.get("/api/v1/listings/not-a-uuid/").status_code == 404


def test_a_retried_create_with_the_same_idempotency_key_creates_one_listing(api):
    def send():
        return api.post("/api/v1/listings/", {"title": "Mug", "photos": [encoded_upload("mug.png")]},
                        headers={"Idempotency-Key": "create-mug-1"})

    first, retry = send(), send()
    assert first.status_code == retry.status_code == 201 and first.json() == retry.json()
    assert Listing.objects.count() == 1


def test_another_seller_may_use_the_same_idempotency_key(api, outsider_api):
    for client in (api, outsider_api):
        client.post("/api/v1/listings/", {"title": "Mug", "photos": [encoded_upload("mug.png")]},
                    headers={"Idempotency-Key": "same"})
    assert Listing.objects.count() == 2


def test_an_overlong_idempotency_key_is_refused(api):
    response = api.post("/api/v1/listings/", {"title": "Mug", "photos": [encoded_upload("mug.png")]},
                        headers={"Idempotency-Key": "k" * 300})
    assert response.status_code == 400 and not Listing.objects.exists()


def test_an_oversized_photo_is_a_field_error(api, settings):
    settings.CATALOG_MAX_PHOTO_BYTES = 100
    response = api.post("/api/v1/listings/", {"title": "Big", "photos": [encoded_upload("big.png")]})
    assert response.status_code == 400 and "the limit is" in response.json()["errors"]["photos"][0]["reason"]
    assert not Listing.objects.exists()


def test_the_status_filter_agrees_with_the_status_shown(api, owner, listing):
    Listing.objects.create(seller=owner, title="No photos yet")
    Photo.objects.filter(listing=listing).update(status="failed")
    for status in ("processing", "done", "failed"):
        found = api.get("/api/v1/listings/", {"status": status}).json()["results"]
        assert all(shown["status"] == status for shown in found)
    assert api.get("/api/v1/listings/", {"status": "failed"}).json()["count"] == 1


def test_a_listing_shows_its_one_decision_and_each_items_outcome(api, listing, make_item):
    make_item("Fruit > Banana", 0.97, outcome="accepted", accepted_depth=2, calibrated=True)
    banana = Category.objects.get(path="Fruit > Banana")
    Listing.objects.filter(pk=listing.pk).update(category=banana, decided_lineage=banana.lineage_ids(),
                                                 confidences=[0.99, 0.97], calibrated=True, outcome="accepted",
                                                 accepted_depth=2)
    body = api.get(f"/api/v1/listings/{listing.uuid}/").json()
    assert (body["category"], body["confidences"], body["outcome"]) == ("Fruit > Banana", [0.99, 0.97], "accepted")
    assert body["calibrated"] and body["photos"][0]["items"][0]["calibrated"]
    assert body["photos"][0]["items"][0]["outcome"] == "accepted"


def test_confidences_without_a_calibration_say_so(api, listing, make_item):
    make_item("Fruit > Banana", 0.6, outcome="needs_review")
    banana = Category.objects.get(path="Fruit > Banana")
    Listing.objects.filter(pk=listing.pk).update(category=banana, decided_lineage=banana.lineage_ids(),
                                                 confidences=[0.8, 0.6], outcome="needs_review")
    body = api.get(f"/api/v1/listings/{listing.uuid}/").json()
    assert body["confidences"] == [0.8, 0.6] and body["calibrated"] is False
    assert body["photos"][0]["items"][0]["calibrated"] is False


def test_a_listing_not_yet_decided_has_no_category(api, listing):
    body = api.get(f"/api/v1/listings/{listing.uuid}/").json()
    assert body["category"] is None and body["outcome"] == "" and body["confidences"] == []


def test_a_listings_own_address_ignores_the_lists_filters(api, listing):
    assert api.get(f"/api/v1/listings/{listing.uuid}/?status=done&refrence=x").status_code == 200


def test_an_item_staff_moved_elsewhere_claims_no_level_accepted_by_the_model(api, listing, make_item, staff):
    from catalog.review import decide

    fruit = make_item("Fruit > Apple", outcome="accepted_at_parent", accepted_depth=1, predicted_path="Fruit > Apple")
    moved = make_item("Fruit > Apple", outcome="accepted_at_parent", accepted_depth=1, predicted_path="Fruit > Apple")
    decide(fruit, Category.objects.get_or_create_path(["Fruit", "Pear"]), staff)  # Fruit, accepted, still holds
    decide(moved, Category.objects.get_or_create_path(["Dairy", "Milk"]), staff)
    whole = make_item("Fruit > Banana", outcome="accepted", accepted_depth=2, predicted_path="Fruit > Banana")
    decide(whole, Category.objects.get_or_create_path(["Fruit"]), staff)  # staff settle on its parent
    items = {item["uuid"]: item for item in api.get(f"/api/v1/listings/{listing.uuid}/").json()["photos"][0]["items"]}
    assert (items[str(fruit.uuid)]["category"], items[str(fruit.uuid)]["accepted_depth"]) == ("Fruit > Pear", 1)
    assert (items[str(moved.uuid)]["category"], items[str(moved.uuid)]["accepted_depth"]) == ("Dairy > Milk", 0)
    assert items[str(moved.uuid)]["review"] == "corrected"
    assert (items[str(whole.uuid)]["category"], items[str(whole.uuid)]["accepted_depth"]) == ("Fruit", 1)
