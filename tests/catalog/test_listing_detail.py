import pytest

from catalog.models import Category, Item, Listing, Photo

pytestmark = pytest.mark.django_db


def test_the_owner_sees_the_listing_and_its_photo_status(owner_client, listing):
    page = owner_client.get(f"/listings/{listing.uuid}/").content.decode()
    assert "Bananas" in page and "banana.png" in page
    assert "Queued" in page and 'data-pending="true"' in page


def test_an_outsider_gets_404(outsider_client, listing):
    assert outsider_client.get(f"/listings/{listing.uuid}/").status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(client, listing):
    response = client.get(f"/listings/{listing.uuid}/")
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_an_unknown_listing_is_404(owner_client):
    assert owner_client.get("/listings/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_a_failed_photo_shows_its_reason(owner_client, listing):
    listing.photos.update(status="failed", failure_reason="The photo file is missing from storage.")
    page = owner_client.get(f"/listings/{listing.uuid}/").content.decode()
    assert "The photo file is missing from storage." in page
    assert 'data-pending="false"' in page


def test_the_listings_one_category_comes_before_its_photos(owner_client, listing, make_item):
    make_item("Fruit > Apple", 0.7, outcome="accepted_at_parent", accepted_depth=1)
    apple = Category.objects.get(path="Fruit > Apple")
    Listing.objects.filter(pk=listing.pk).update(category=apple, decided_lineage=apple.lineage_ids(),
                                                 confidences=[0.99, 0.7], calibrated=True,
                                                 outcome="accepted_at_parent", accepted_depth=1)
    page = owner_client.get(f"/listings/{listing.uuid}/").content.decode()
    assert page.index('id="listing-decision"') < page.index('class="photo-card"')
    assert "Accepted as “Fruit”; the finer category needs review by catalogue staff." in page
    assert 'Apple <small title="the chance this level is right">70%</small>' in page


def test_an_item_unlike_the_catalogue_says_so_plainly(owner_client, listing, make_item):
    make_item(None, outcome="not_in_catalogue")
    Listing.objects.filter(pk=listing.pk).update(outcome="not_in_catalogue")
    page = owner_client.get(f"/listings/{listing.uuid}/").content.decode()
    assert page.count("This does not look like anything in our catalogue") == 2  # the listing and its item


def test_an_accepted_category_says_what_may_still_change_it(owner_client, listing, make_item):
    make_item("Fruit > Banana", 0.99, outcome="accepted", accepted_depth=2)
    banana = Category.objects.get(path="Fruit > Banana")
    Listing.objects.filter(pk=listing.pk).update(category=banana, decided_lineage=banana.lineage_ids(),
                                                 confidences=[0.99, 0.99], outcome="accepted", accepted_depth=2)
    page = owner_client.get(f"/listings/{listing.uuid}/").content.decode()
    assert "This category is set. Catalogue staff check a random sample of automatic answers" in page
    # A photo added since is still being categorized: the category is not set yet.
    Photo.objects.create(listing=listing, original_name="more.png", image="photos/more.png")
    page = owner_client.get(f"/listings/{listing.uuid}/").content.decode()
    assert "From the photos categorized so far: the others may still change it." in page
    assert "This category is set" not in page


def test_a_listing_accepted_from_its_photos_together_calls_no_photo_final(owner_client, listing, make_item):
    """Two photos each unsure pool into a sure listing: the items still go to review, but only the
    listing's decision is the listing's category."""
    make_item("Fruit > Banana", 0.9, outcome="needs_review")
    banana = Category.objects.get(path="Fruit > Banana")
    Listing.objects.filter(pk=listing.pk).update(category=banana, decided_lineage=banana.lineage_ids(),
                                                 confidences=[0.99, 0.99], outcome="accepted", accepted_depth=2)
    page = owner_client.get(f"/listings/{listing.uuid}/").content.decode()
    assert "This category is set." in page and "Catalogue staff will check this item's category." in page
    assert "before it is final" not in page


def test_an_accepted_item_beside_others_claims_no_final_category(owner_client, listing, make_item):
    # Only the listing's decision is its category: an item accepted by the model is only sure.
    make_item("Fruit > Banana", 0.99, outcome="accepted", accepted_depth=2)
    make_item("Fruit > Pear", 0.6, outcome="needs_review")
    Listing.objects.filter(pk=listing.pk).update(outcome="needs_review")
    page = owner_client.get(f"/listings/{listing.uuid}/").content.decode()
    assert "The model is sure of this item's category." in page and "This category is set" not in page


def test_a_sellers_own_item_drawn_for_an_audit_shows_its_category_on_the_photo(owner_client, listing, make_item):
    audited = make_item("Fruit > Banana", 0.99, outcome="accepted", accepted_depth=2, audit=True)
    other = make_item("Fruit > Pear", 0.6, outcome="needs_review")
    Item.objects.filter(pk=audited.pk).update(box=[0, 0, 4, 4])  # boxes, not the whole photo: drawn over it
    Item.objects.filter(pk=other.pk).update(box=[4, 4, 8, 8])
    page = owner_client.get(f"/listings/{listing.uuid}/").content.decode()
    assert "to be chosen" not in page and "<title>1: Fruit &gt; Banana</title>" in page
