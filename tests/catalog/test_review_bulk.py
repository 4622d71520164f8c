import pytest

from catalog.models import Category, Item, ReviewDecision

pytestmark = pytest.mark.django_db


def test_staff_accept_a_selection(staff_client, make_item):
    chosen = [make_item("Fruit > Banana"), make_item("Vegetables > Carrots")]
    left_alone = make_item("Fruit > Apple")
    response = staff_client.post("/review/bulk", {"action": "accept", "items": [str(i.uuid) for i in chosen]},
                                 follow=True)
    assert "2 items accepted." in response.content.decode()
    assert set(Item.objects.filter(review="accepted")) == set(chosen)
    assert Item.objects.get(pk=left_alone.pk).review == "pending"
    assert ReviewDecision.objects.filter(action="accepted").count() == 2


def test_staff_move_a_selection_to_another_category(staff_client, make_item):
    chosen = [make_item("Fruit > Banana"), make_item(path=None)]
    carrots = Category.objects.get_or_create_path(["Vegetables", "Carrots"])
    response = staff_client.post("/review/bulk", {
        "action": "reassign", "category": "Vegetables > Carrots", "items": [str(i.uuid) for i in chosen]},
        follow=True)
    assert "2 items corrected." in response.content.decode()
    assert {item.category for item in Item.objects.all()} == {carrots}
    assert ReviewDecision.objects.filter(action="corrected").count() == 2


def test_a_selection_corrected_to_the_category_one_of_them_has_says_which_were_accepts(staff_client, make_item):
    chosen = [make_item("Fruit > Banana"), make_item("Vegetables > Carrots")]
    response = staff_client.post("/review/bulk", {
        "action": "reassign", "category": "Vegetables > Carrots", "items": [str(i.uuid) for i in chosen]},
        follow=True)
    assert "1 item corrected; 1 accepted, the category it had." in response.content.decode()
    assert sorted(ReviewDecision.objects.values_list("action", flat=True)) == ["accepted", "corrected"]


def test_accepting_leaves_uncategorized_items_and_says_so(staff_client, make_item):
    items = [make_item("Fruit > Banana"), make_item(path=None)]
    response = staff_client.post("/review/bulk", {"action": "accept", "items": [str(i.uuid) for i in items]},
                                 follow=True)
    page = response.content.decode()
    assert "1 item accepted." in page and "1 uncategorized item left unchanged" in page


def test_moving_without_a_category_is_refused(staff_client, make_item):
    item = make_item()
    response = staff_client.post("/review/bulk", {"action": "reassign", "items": [str(item.uuid)]}, follow=True)
    assert "Choose the category to correct the selected items to." in response.content.decode()
    assert not ReviewDecision.objects.exists()


def test_an_empty_selection_is_refused(staff_client):
    response = staff_client.post("/review/bulk", {"action": "accept"}, follow=True)
    assert "Select at least one item." in response.content.decode()


def test_a_malformed_item_id_is_refused(staff_client, make_item):
    make_item()
    response = staff_client.post("/review/bulk", {"action": "accept", "items": ["1 OR 1=1"]}, follow=True)
    assert "does not exist" in response.content.decode() and not ReviewDecision.objects.exists()


def test_a_seller_is_refused_and_nothing_changes(owner_client, make_item):
    item = make_item()
    response = owner_client.post("/review/bulk", {"action": "accept", "items": [str(item.uuid)]})
    assert response.status_code == 403 and not ReviewDecision.objects.exists()


def test_an_anonymous_visitor_is_sent_to_log_in(client, make_item):
    response = client.post("/review/bulk", {"action": "accept", "items": [str(make_item().uuid)]})
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_enter_in_the_category_box_never_accepts_the_selection(staff_client, make_item):
    # A browser submits on Enter with the form's first button: Correct comes first, and an accept
    # sent with a category typed in is refused rather than accepting what staff meant to correct.
    page = staff_client.get("/review/").content.decode()
    assert page.index('value="reassign"') < page.index('value="accept"')
    item = make_item("Fruit > Banana")
    Category.objects.get_or_create_path(["Dairy", "Milk"])
    response = staff_client.post("/review/bulk", {"action": "accept", "category": "Dairy > Milk",
                                                  "items": [str(item.uuid)]}, follow=True)
    assert "A category is typed in: press Correct selected" in response.content.decode()
    assert not ReviewDecision.objects.exists()


def test_items_changed_since_the_page_loaded_are_left_unchanged(staff_client, make_item, staff):
    from catalog.review import decide

    seen, changed = make_item("Fruit > Banana"), make_item("Fruit > Apple")
    tokens = [f"{item.uuid}={item.seen_as}" for item in (seen, changed)]
    decide(changed, Category.objects.get_or_create_path(["Fruit", "Pear"]), staff)  # another reviewer, meanwhile
    response = staff_client.post("/review/bulk", {"action": "accept", "items": [str(seen.uuid), str(changed.uuid)],
                                                  "seen": tokens}, follow=True)
    page = response.content.decode()
    assert "1 item accepted." in page and "1 item left unchanged: changed since the page was loaded" in page
    assert Item.objects.get(pk=changed.pk).review == "corrected"  # not "accepted Pear", never seen
    assert ReviewDecision.objects.filter(item=changed).count() == 1
