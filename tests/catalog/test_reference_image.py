import pytest

from catalog.models import ReferenceImage

pytestmark = pytest.mark.django_db


def test_a_seller_can_see_a_reference_image(owner_client, imported_catalogue):
    reference = ReferenceImage.objects.first()
    response = owner_client.get(f"/references/{reference.uuid}/image")
    assert response.status_code == 200


def test_reference_images_need_a_login(client, imported_catalogue):
    assert client.get(f"/references/{ReferenceImage.objects.first().uuid}/image").status_code == 302


def test_a_reference_made_from_a_sellers_item_is_for_staff_only(owner_client, outsider_client, staff_client,
                                                                 make_item, staff):
    from catalog.review import decide

    item = make_item()
    decide(item, item.category, staff)
    reference = ReferenceImage.objects.get(source="review")
    assert staff_client.get(f"/references/{reference.uuid}/image").status_code == 200
    assert outsider_client.get(f"/references/{reference.uuid}/image").status_code == 404
