"""The staff pages are for staff: a seller is refused, an anonymous visitor sent to log in."""

import pytest

pytestmark = pytest.mark.django_db

STAFF_PAGES = ["/review/", "/review/quality/"]


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_a_seller_is_refused(owner_client, path):
    assert owner_client.get(path).status_code == 403


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_an_anonymous_visitor_is_sent_to_log_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and response.url.startswith("/login/")
