"""A seller manages a listing from its page: title, category (accept or choose), more photos, delete;
and finds listings on "My listings" a page at a time, by title or reference."""

import pytest

from catalog.models import Category, Listing, Photo, ReferenceImage, ReviewDecision
from catalog.review import set_aside
from tests.photos import encoded_upload
from worker.listings import update_listing_decision

pytestmark = pytest.mark.django_db


def test_a_seller_edits_the_title(owner_client, listing):
    response = owner_client.post(f"/listings/{listing.uuid}/title", {"title": "Ripe bananas"}, follow=True)
    assert "Title saved." in response.content.decode()
    assert Listing.objects.get().title == "Ripe bananas"


def test_a_seller_deletes_a_listing_with_its_photos(owner_client, listing):
    response = owner_client.post(f"/listings/{listing.uuid}/delete", follow=True)
    assert "Deleted “Bananas” and its photos." in response.content.decode()
    assert not Listing.objects.exists() and not Photo.objects.exists()


def test_a_deleted_listing_takes_the_references_staff_made_of_its_photos(owner_client, staff_client, listing,
                                                                         make_item, django_capture_on_commit_callbacks):
    item = make_item("Fruit > Banana", 0.6)
    staff_client.post(f"/review/items/{item.uuid}/accept")  # a crop of the seller's photo, a reference now
    reference = ReferenceImage.objects.get(source="review")
    storage, name = reference.image.storage, reference.image.name
    assert storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(f"/listings/{listing.uuid}/delete")
    assert not ReferenceImage.objects.exists() and not storage.exists(name)


def test_another_seller_can_change_nothing(outsider_client, listing):
    for action, data in (("delete", {}), ("title", {"title": "Mine"}), ("category", {"category": "Fruit"})):
        assert outsider_client.post(f"/listings/{listing.uuid}/{action}", data).status_code == 404
    assert Listing.objects.get().title == "Bananas"


def test_a_seller_adds_photos(owner_client, listing, django_capture_on_commit_callbacks):
    response = owner_client.post(f"/listings/{listing.uuid}/add-photos",
                                 {"photos": [encoded_upload("side.png"), encoded_upload("back.png")]}, follow=True)
    assert "Added 2 photos; finding the category…" in response.content.decode()
    assert list(listing.photos.values_list("original_name", flat=True)) == ["banana.png", "side.png", "back.png"]
    Listing.objects.filter(pk=listing.pk).update(category_chosen=True, outcome="chosen_by_seller")
    response = owner_client.post(f"/listings/{listing.uuid}/add-photos", {"photos": [encoded_upload("top.png")]},
                                 follow=True)
    assert "Added 1 photo; it is categorized, and the category you chose stays." in response.content.decode()


def test_photos_past_the_listings_limit_are_refused_and_nothing_is_added(owner_client, listing, settings):
    settings.CATALOG_MAX_PHOTOS_PER_LISTING = 2
    response = owner_client.post(f"/listings/{listing.uuid}/add-photos",
                                 {"photos": [encoded_upload("a.png"), encoded_upload("b.png")]})
    assert response.status_code == 400
    assert "this one has 1, so 1 more fit" in response.content.decode() and listing.photos.count() == 1


def decided_by_the_model(listing, item):
    Listing.objects.filter(pk=listing.pk).update(category=item.category, confidences=item.confidences,
                                                 decided_lineage=item.decided_lineage, outcome="needs_review")


def test_a_seller_chooses_another_category_and_new_photos_leave_it(owner_client, listing, make_item):
    decided_by_the_model(listing, make_item("Fruit > Banana", 0.6))
    Category.objects.get_or_create_path(["Fruit", "Plantain"])

    response = owner_client.post(f"/listings/{listing.uuid}/category", {"category": "fruit > plantain"}, follow=True)

    assert "The category is Fruit &gt; Plantain now." in response.content.decode()
    assert "Chosen by the seller" in response.content.decode()
    update_listing_decision(listing.pk)  # as when another photo is categorized: the model is not asked
    chosen = Listing.objects.get()
    assert (chosen.category.path, chosen.outcome, chosen.confidences) == ("Fruit > Plantain", "chosen_by_seller", [])


def test_accepting_the_category_shown_keeps_its_confidences(owner_client, listing, make_item):
    decided_by_the_model(listing, make_item("Fruit > Banana", 0.6))
    owner_client.post(f"/listings/{listing.uuid}/category", {"category": "Fruit > Banana"})
    accepted = Listing.objects.get()
    assert accepted.outcome == "chosen_by_seller" and accepted.confidences and accepted.category_chosen


def test_an_unknown_category_is_refused(owner_client, listing):
    response = owner_client.post(f"/listings/{listing.uuid}/category", {"category": "Toys"})
    assert response.status_code == 400 and "There is no category “Toys”" in response.content.decode()
    assert not Listing.objects.get().category_chosen


def test_staffs_review_still_comes_before_the_sellers_choice(owner_client, staff_client, listing, make_item):
    item = make_item("Fruit > Banana", 0.6)
    Category.objects.get_or_create_path(["Fruit", "Plantain"])
    owner_client.post(f"/listings/{listing.uuid}/category", {"category": "Fruit > Plantain"})
    staff_client.post(f"/review/items/{item.uuid}/accept")
    update_listing_decision(listing.pk)
    assert (Listing.objects.get().category.path, Listing.objects.get().outcome) == ("Fruit > Banana", "reviewed")


def test_my_listings_come_a_page_at_a_time(owner_client, owner):
    Listing.objects.bulk_create([Listing(seller=owner, title=f"Mug {n:02}") for n in range(25)])
    first = owner_client.get("/").content.decode()
    assert "25 listings." in first and "Page 1 of 2" in first and first.count("Mug ") == 20
    assert owner_client.get("/?page=2").content.decode().count("Mug ") == 5


def test_my_listings_are_found_by_title_or_reference(owner_client, owner):
    Listing.objects.create(seller=owner, title="Red mug", reference="SKU-7")
    Listing.objects.create(seller=owner, title="Blue plate", reference="SKU-8")
    assert "Red mug" in owner_client.get("/?q=sku-7").content.decode()
    page = owner_client.get("/?q=plate").content.decode()
    assert "Blue plate" in page and "Red mug" not in page and "1 listing matching “plate”" in page
    assert "No listing's title or reference holds “teapot”" in owner_client.get("/?q=teapot").content.decode()


def test_a_staff_decision_that_leaves_the_sellers_choice_does_not_leave_the_page_updating(owner_client, staff,
                                                                                          listing, make_item):
    main = make_item("Fruit > Banana", 0.6)
    other = make_item("Fruit > Banana", 0.5)
    Category.objects.get_or_create_path(["Fruit", "Plantain"])
    owner_client.post(f"/listings/{listing.uuid}/category", {"category": "Fruit > Plantain"})
    set_aside(other, ReviewDecision.Action.NOT_A_PRODUCT, staff)  # not the main item: the choice stands
    assert "Updating the category" in owner_client.get(f"/listings/{listing.uuid}/").content.decode()
    update_listing_decision(listing.pk)
    page = owner_client.get(f"/listings/{listing.uuid}/").content.decode()
    assert "Updating the category" not in page and "Chosen by the seller" in page
    main.refresh_from_db()
    assert Listing.objects.get().category.path == "Fruit > Plantain" and main.review == "pending"


def test_a_seller_removes_one_photo_and_the_listing_is_decided_from_the_others(owner_client, outsider_client,
                                                                               listing, make_item,
                                                                               django_capture_on_commit_callbacks):
    failed = Photo.objects.create(listing=listing, original_name="blurry.png", image="photos/blurry.png",
                                  status=Photo.Status.FAILED, failure_reason="The file is not an image.")
    make_item("Fruit > Banana", 0.6, review="accepted")  # on the listing's first photo, decided by staff
    assert "Remove photo" in owner_client.get(f"/listings/{listing.uuid}/").content.decode()
    assert outsider_client.post(f"/listings/{listing.uuid}/photos/{failed.uuid}/remove").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(f"/listings/{listing.uuid}/photos/{failed.uuid}/remove", follow=True)
    assert "Removed the photo blurry.png; the category is decided again from the others." in response.content.decode()
    assert list(listing.photos.values_list("original_name", flat=True)) == ["banana.png"]
    listing.refresh_from_db()
    assert listing.decided and listing.category.path == "Fruit > Banana"  # decided again, from the photo left
    # The last photo stays: a listing without photos would have nothing to categorize.
    response = owner_client.post(f"/listings/{listing.uuid}/photos/{listing.photos.get().uuid}/remove", follow=True)
    assert "A listing keeps at least one photo" in response.content.decode() and listing.photos.count() == 1
    assert "Remove photo" not in response.content.decode()


def test_removing_the_photo_staff_decided_about_does_not_say_their_category_stays(owner_client, listing, make_item):
    decided = make_item("Fruit > Banana", 0.6, review="accepted")  # on the first photo
    Listing.objects.filter(pk=listing.pk).update(category=decided.category, outcome="reviewed")
    owner_client.post(f"/listings/{listing.uuid}/add-photos", {"photos": [encoded_upload("side.png")]})
    first = listing.photos.order_by("pk").first()
    response = owner_client.post(f"/listings/{listing.uuid}/photos/{first.uuid}/remove", follow=True)
    assert "Removed the photo banana.png; the category is decided again from the others." in response.content.decode()


def test_a_seller_cannot_change_the_category_staff_set(owner_client, listing, make_item):
    item = make_item("Fruit > Banana", 0.6, review="accepted")
    Listing.objects.filter(pk=listing.pk).update(category=item.category, outcome="reviewed")
    Category.objects.get_or_create_path(["Fruit", "Plantain"])
    # The page offers no category form then; a request made by hand is refused the same.
    assert 'id="choose-category"' not in owner_client.get(f"/listings/{listing.uuid}/").content.decode()
    response = owner_client.post(f"/listings/{listing.uuid}/category", {"category": "Fruit > Plantain"}, follow=True)
    assert "Catalogue staff set this listing&#x27;s category" in response.content.decode()
    kept = Listing.objects.get()
    assert (kept.category.path, kept.outcome, kept.category_chosen) == ("Fruit > Banana", "reviewed", False)


def test_keeping_a_category_that_changed_while_the_page_was_open_is_refused(owner_client, listing, make_item):
    decided_by_the_model(listing, make_item("Fruit > Banana", 0.6))
    page = owner_client.get(f"/listings/{listing.uuid}/").content.decode()
    assert 'name="shown" value="Fruit &gt; Banana"' in page
    decided_by_the_model(listing, make_item("Fruit > Pear", 0.7))  # another photo was categorized meanwhile
    response = owner_client.post(f"/listings/{listing.uuid}/category",
                                 {"category": "Fruit > Banana", "shown": "Fruit > Banana"}, follow=True)
    assert "The category was updated to “Fruit &gt; Pear” while this page was open" in response.content.decode()
    assert not Listing.objects.get().category_chosen
    # Another category, typed on purpose, is the seller's choice whatever the page showed.
    owner_client.post(f"/listings/{listing.uuid}/category", {"category": "Fruit > Banana", "shown": "Fruit > Pear"})
    assert (Listing.objects.get().category.path, Listing.objects.get().category_chosen) == ("Fruit > Banana", True)


def test_a_staff_decision_ends_the_sellers_choice_and_the_form_waits_for_it(owner_client, staff, listing,
                                                                            make_item):
    from catalog.review import decide

    main = make_item("Fruit > Banana", 0.6)
    Category.objects.get_or_create_path(["Fruit", "Plantain"])
    owner_client.post(f"/listings/{listing.uuid}/category", {"category": "Fruit › Plantain"})  # as pages write it
    assert Listing.objects.get().category.path == "Fruit > Plantain"
    decide(main, main.category, staff)
    page = owner_client.get(f"/listings/{listing.uuid}/").content.decode()
    assert "Updating the category" in page and 'id="choose-category"' not in page  # not the category it hides
    response = owner_client.post(f"/listings/{listing.uuid}/category", {"category": "Fruit > Plantain"}, follow=True)
    assert "being updated after catalogue staff&#x27;s decision" in response.content.decode()
    update_listing_decision(listing.pk)
    decided = Listing.objects.get()
    assert (decided.category.path, decided.outcome, decided.category_chosen) == ("Fruit > Banana", "reviewed", False)


def test_after_a_photo_is_removed_the_page_waits_for_the_category_decided_again(owner_client, listing, make_item):
    from catalog.listings import remove_photo

    make_item("Fruit > Banana", 0.6, review="accepted")  # decided by staff: no index needed to decide again
    Listing.objects.filter(pk=listing.pk).update(category=Category.objects.get(path="Fruit > Banana"),
                                                 outcome="reviewed", decided="2026-01-01T00:00Z")
    second = Photo.objects.create(listing=listing, original_name="pear.png", image="photos/pear.png", status="done")
    remove_photo(listing, second.uuid)  # its decision not made yet (nothing here runs on_commit)
    page = owner_client.get(f"/listings/{listing.uuid}/").content.decode()
    assert "Updating the category after a photo was removed…" in page and 'data-pending="true"' in page
    update_listing_decision(listing.pk)
    assert "Updating the category" not in owner_client.get(f"/listings/{listing.uuid}/").content.decode()
