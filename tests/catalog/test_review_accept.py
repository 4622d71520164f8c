import pytest

from catalog.models import Item, ReferenceImage, ReviewDecision

pytestmark = pytest.mark.django_db


def test_staff_accept_an_item_and_it_becomes_a_reference(staff_client, staff, make_item):
    item = make_item("Fruit > Banana", 0.6)
    response = staff_client.post(f"/review/items/{item.uuid}/accept", {"next": "/review/?band=medium"})
    assert response.status_code == 302 and response.url == "/review/?band=medium"
    item.refresh_from_db()
    assert item.review == "accepted"
    decision = ReviewDecision.objects.get()
    assert (decision.reviewer, decision.action, decision.old_category, decision.new_category) == (
        staff, "accepted", item.category, item.category)
    reference = ReferenceImage.objects.get()
    assert reference.source == "review" and reference.category == item.category
    assert reference.embedding == item.embedding and reference.embedding_version == "test-1"


def test_an_uncategorized_item_cannot_be_accepted(staff_client, make_item):
    item = make_item(path=None)
    response = staff_client.post(f"/review/items/{item.uuid}/accept", follow=True)
    assert "no category to accept" in response.content.decode()
    assert not ReviewDecision.objects.exists() and not ReferenceImage.objects.exists()


def test_an_outside_redirect_target_is_ignored(staff_client, make_item):
    item = make_item()
    response = staff_client.post(f"/review/items/{item.uuid}/accept", {"next": "https://evil.example/"})
    assert response.url == "/review/"


def test_a_redirect_target_that_is_not_a_path_goes_to_the_queue(staff_client, make_item):
    # redirect() would read "x" as a view's name, and fail to find one (a server error).
    response = staff_client.post(f"/review/items/{make_item().uuid}/accept", {"next": "x"})
    assert (response.status_code, response.url) == (302, "/review/")


def test_an_unknown_item_is_404(staff_client):
    assert staff_client.post("/review/items/00000000-0000-0000-0000-000000000000/accept").status_code == 404


def test_get_is_not_allowed(staff_client, make_item):
    assert staff_client.get(f"/review/items/{make_item().uuid}/accept").status_code == 405


def test_a_seller_is_refused_and_nothing_changes(owner_client, make_item):
    item = make_item()
    assert owner_client.post(f"/review/items/{item.uuid}/accept").status_code == 403
    assert Item.objects.get().review == "pending" and not ReviewDecision.objects.exists()


def test_an_anonymous_visitor_is_sent_to_log_in(client, make_item):
    response = client.post(f"/review/items/{make_item().uuid}/accept")
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_an_accept_on_a_card_another_reviewer_changed_is_refused(staff_client, make_item, staff):
    from catalog.models import Category
    from catalog.review import decide

    item = make_item("Fruit > Banana")
    seen = item.seen_as
    decide(item, Category.objects.get_or_create_path(["Fruit", "Pear"]), staff)
    response = staff_client.post(f"/review/items/{item.uuid}/accept", {"seen": seen}, follow=True)
    assert "Nothing done: this item changed since the page was loaded" in response.content.decode()
    assert '<p class="notice error" role="alert">Nothing done' in response.content.decode()  # told from a success
    assert ReviewDecision.objects.count() == 1
    # Accepted as it now is, staff's correction stays a correction (it is not the model's answer).
    staff_client.post(f"/review/items/{item.uuid}/accept", {"seen": Item.objects.get(pk=item.pk).seen_as})
    assert Item.objects.get(pk=item.pk).review == "corrected" and ReviewDecision.objects.count() == 2


def test_a_card_accepting_a_parent_says_so_and_offers_the_best_guess(staff_client, make_item):
    from catalog.models import Category

    guess = Category.objects.get_or_create_path(["Fruit", "Apple", "Gala"])
    item = make_item("Fruit > Apple", 0.9, outcome="accepted_at_parent", accepted_depth=2,
                     predicted_path="Fruit > Apple > Gala", predicted_category=guess)
    page = staff_client.get("/review/").content.decode()
    assert "Accept “Apple”</button>" in page and "Accept the best guess</button>" in page
    staff_client.post(f"/review/items/{item.uuid}/correct", {"category": guess.path, "seen": item.seen_as})
    assert Item.objects.get(pk=item.pk).category == guess


def test_after_an_action_staff_are_back_at_the_card_that_followed(staff_client, make_item):
    first, second = make_item("Fruit > Banana", risk=0.9), make_item("Fruit > Apple", risk=0.1)
    page = staff_client.get("/review/").content.decode()
    assert f'id="item-{second.uuid}"' in page and f'name="after" value="{second.uuid}"' in page
    response = staff_client.post(f"/review/items/{first.uuid}/accept", {"next": "/review/", "after": str(second.uuid)})
    assert response.url == f"/review/#item-{second.uuid}"
    response = staff_client.post(f"/review/items/{second.uuid}/accept", {"next": "/review/", "after": "x"})
    assert response.url == "/review/"
