"""The record of review decisions in the admin: read only, its reviewer filter listing only those who
decided (every account, sellers' too, was listed)."""

import pytest

from catalog.models import Category
from catalog.review import decide

pytestmark = pytest.mark.django_db


def test_the_reviewer_filter_lists_only_reviewers(client, django_user_model, make_item, staff, owner):
    client.force_login(django_user_model.objects.create_superuser("ada", password="a-long-password-4"))
    other = django_user_model.objects.create_user("sam", password="a-long-password-6", is_staff=True)
    apple = Category.objects.get_or_create_path(["Fruit", "Apple"])
    decide(make_item("Fruit > Banana"), apple, staff)
    decide(make_item("Fruit > Banana"), apple, other)
    page = client.get("/admin/catalog/reviewdecision/")
    assert page.status_code == 200
    text = page.content.decode()
    assert f"reviewer__id__exact={staff.pk}" in text and f"reviewer__id__exact={other.pk}" in text
    assert f"reviewer__id__exact={owner.pk}" not in text
    assert client.post("/admin/catalog/reviewdecision/add/").status_code == 403
