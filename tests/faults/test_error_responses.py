"""What a seller sees when something fails inside: problem details from the API, a plain page on
the web, 503 + Retry-After while the database is unreachable; never a setting or a traceback."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.test import Client

from catalog import api, views

pytestmark = pytest.mark.django_db
SECRET = "postgres://catalog:hunter2@db"  # what a leaked setting or exception text would show


def _fail(error):
    def fail(*args, **kwargs):
        raise error
    return fail


@pytest.fixture
def api_client(owner_key):
    return Client(HTTP_AUTHORIZATION=f"Token {owner_key}", raise_request_exception=False)


@pytest.fixture
def web_client(owner):
    client = Client(raise_request_exception=False)
    client.force_login(owner)
    return client


def test_an_api_server_error_is_a_problem_document_without_internals(api_client, listing, monkeypatch):
    monkeypatch.setattr(api, "similar_listings", _fail(RuntimeError(SECRET)))
    response = api_client.get(f"/api/v1/listings/{listing.uuid}/similar/")
    assert response.status_code == 500 and response["Content-Type"] == "application/problem+json"
    assert response.json()["title"] == "Internal Server Error" and "Traceback" not in response.content.decode()
    assert SECRET not in response.content.decode()


def test_a_web_server_error_is_a_plain_page_without_internals(web_client, listing, monkeypatch):
    monkeypatch.setattr(views, "_photos", _fail(RuntimeError(SECRET)))
    response = web_client.get(f"/listings/{listing.uuid}/")
    page = response.content.decode()
    assert response.status_code == 500 and "it has been logged" in page
    assert SECRET not in page and "Traceback" not in page


def test_an_unreachable_database_is_503_with_retry_after(api_client, web_client, listing, monkeypatch):
    monkeypatch.setattr(api.ListingViewSet, "get_queryset", _fail(OperationalError(f"could not connect: {SECRET}")))
    monkeypatch.setattr(views, "_photos", _fail(OperationalError(f"could not connect: {SECRET}")))
    for response in (api_client.get("/api/v1/listings/"), web_client.get(f"/listings/{listing.uuid}/")):
        assert response.status_code == 503 and response["Retry-After"] == "30"
        assert SECRET not in response.content.decode()
    assert api_client.get("/api/v1/listings/").json()["detail"].startswith("The service is briefly unavailable")


def test_an_unknown_api_address_is_a_problem_document(api_client):
    response = api_client.get("/api/v1/nothing-here/")
    assert response.status_code == 404 and response.json()["status"] == 404


def test_too_many_files_in_one_request_is_a_problem_document(api_client):
    photos = [SimpleUploadedFile(f"{n}.png", b"x") for n in range(101)]
    response = api_client.post("/api/v1/bulk-jobs/", {"photos": photos})
    assert response.status_code == 400 and "at most 100 files" in response.json()["detail"]
