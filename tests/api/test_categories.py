import pytest

from catalog.models import Category

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    for path in (["Fruit", "Apple", "Granny-Smith"], ["Fruit", "Banana"], ["Vegetables", "Carrots"]):
        Category.objects.get_or_create_path(path)


def _paths(response):
    return [category["path"] for category in response.json()["results"]]


def test_the_top_level_is_browsable(api, tree):
    response = api.get("/api/v1/categories/", {"parent": ""})
    assert _paths(response) == ["Fruit", "Vegetables"]
    assert response.json()["results"][0]["children"] == 2


def test_the_children_of_a_path(api, tree):
    assert _paths(api.get("/api/v1/categories/", {"parent": "Fruit"})) == ["Fruit > Apple", "Fruit > Banana"]


def test_search_by_name(api, tree):
    assert _paths(api.get("/api/v1/categories/", {"search": "smith"})) == ["Fruit > Apple > Granny-Smith"]


def test_an_unknown_parent_has_no_children(api, tree):
    assert _paths(api.get("/api/v1/categories/", {"parent": "Toys"})) == []
