"""A review action sent twice (a double click, a form sent again) is done once and said done: the
second was refused as "changed since the page was loaded", though what changed it was the first."""

import pytest

from catalog.models import Category, ReviewDecision

pytestmark = pytest.mark.django_db


def _twice(client, url, data):
    first = client.post(url, data, follow=True)
    second = client.post(url, data, follow=True)
    return first.content.decode(), second.content.decode()


def test_an_accept_sent_twice_is_done_once(staff_client, make_item):
    item = make_item("Fruit > Banana")
    first, second = _twice(staff_client, f"/review/items/{item.uuid}/accept", {"seen": item.seen_as})
    assert "Accepted: Fruit &gt; Banana" in first and "Accepted: Fruit &gt; Banana" in second
    assert "Nothing done" not in second
    assert ReviewDecision.objects.count() == 1


def test_a_correction_sent_twice_is_done_once(staff_client, make_item):
    item = make_item("Fruit > Banana")
    Category.objects.get_or_create_path(["Fruit", "Pear"])
    first, second = _twice(staff_client, f"/review/items/{item.uuid}/correct",
                           {"seen": item.seen_as, "category": "Fruit > Pear"})
    assert "Corrected to Fruit &gt; Pear" in second and "Nothing done" not in second
    assert ReviewDecision.objects.count() == 1


def test_a_set_aside_sent_twice_is_done_once(staff_client, make_item):
    item = make_item("Fruit > Banana")
    _, second = _twice(staff_client, f"/review/items/{item.uuid}/not-a-product", {"seen": item.seen_as})
    assert "Nothing done" not in second and ReviewDecision.objects.count() == 1


def test_another_reviewers_decision_is_still_a_change(staff_client, make_item, django_user_model):
    from catalog.review import decide

    item = make_item("Fruit > Banana")
    seen = item.seen_as
    other = django_user_model.objects.create_user("sam", password="a-long-password-6", is_staff=True)
    decide(item, Category.objects.get_or_create_path(["Fruit", "Banana"]), other)
    page = staff_client.post(f"/review/items/{item.uuid}/accept", {"seen": seen}, follow=True).content.decode()
    assert "Nothing done" in page and ReviewDecision.objects.count() == 1


def test_a_new_category_sent_twice_is_made_once(staff_client, make_item):
    item = make_item("Fruit > Banana")
    first, second = _twice(staff_client, f"/review/items/{item.uuid}/new-category",
                           {"seen": item.seen_as, "path": "Fruit › Plantain"})
    assert "Made the category Fruit &gt; Plantain" in second and "already exists" not in second
    assert Category.objects.filter(path="Fruit > Plantain").count() == 1 and ReviewDecision.objects.count() == 1


def test_the_second_click_read_before_the_first_was_saved_is_done_once(make_item, staff):
    # The queue prefetches an item's decisions: the second request read them (none) before the
    # first's was committed, then waited for the item's lock.
    from catalog.models import Item
    from catalog.review import accept

    item = make_item("Fruit > Banana")
    seen = item.seen_as
    second = Item.objects.prefetch_related("decisions").get(pk=item.pk)
    assert list(second.decisions.all()) == []
    accept(Item.objects.get(pk=item.pk), staff, seen=seen)
    assert accept(second, staff, seen=seen)[0] == ReviewDecision.Action.ACCEPTED
    assert ReviewDecision.objects.count() == 1
