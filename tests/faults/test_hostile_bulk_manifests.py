"""Bulk manifests built to break the importer: each bad row is rejected with its reason, a bad
manifest is refused whole, and nothing answers 500 or half-creates a request."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import BulkJob, Listing
from tests.bulk_support import send_bulk
from tests.photos import csv_manifest, png_bytes, zip_upload

pytestmark = pytest.mark.django_db


def _post(api, manifest):
    """(the response, the job once its import ran)"""
    return send_bulk(api, manifest=manifest, archive=zip_upload([("a.png", png_bytes())]))


def _json(text):
    return SimpleUploadedFile("rows.json", text.encode())


def _reasons(sent):
    response, job = sent
    assert response.status_code == 202, response.content
    return {row["row"]: " ".join(row["errors"]) for row in job["rejected"]}


def test_nul_and_control_characters_reject_their_row_only(api):
    reasons = _reasons(_post(api, csv_manifest("1,Good mug,a.png", "2,Bad\x00title,a.png", "ref\x00,Mug,a.png",
                                               "4,Bell\x07,a.png")))
    assert set(reasons) == {2, 3, 4} and all("control characters" in reason for reason in reasons.values())
    assert list(Listing.objects.values_list("title", flat=True)) == ["Good mug"]


def test_a_retry_of_a_manifest_with_bad_rows_creates_nothing_twice(api):
    manifest = ("1,Good mug,a.png", "2,Bad\x00title,a.png")
    for _ in range(2):
        send_bulk(api, manifest=csv_manifest(*manifest), archive=zip_upload([("a.png", png_bytes())]),
                  headers={"Idempotency-Key": "bulk-nul"})
    assert Listing.objects.count() == 1


@pytest.mark.parametrize("title", [123, {"$gt": ""}, ["a"], True])
def test_a_json_title_that_is_not_text_is_rejected(api, title):
    reasons = _reasons(_post(api, _json(json.dumps([{"title": title, "photos": ["a.png"]}]))))
    assert "title must be text" in reasons[1] and not Listing.objects.exists()


def test_json_titles_and_references_are_normalised_like_the_form(api):
    _post(api, _json(json.dumps([{"title": "  Red\n\tmug ", "reference": " SKU 1 ", "photos": "a.png"}])))
    assert Listing.objects.values_list("title", "reference").get() == ("Red mug", "SKU 1")


@pytest.mark.parametrize("text, message", [
    ('[{"title": NaN, "photos": ["a.png"]}]', "NaN is not a JSON value"),
    ("[" * 100_000 + "]" * 100_000, "nests deeper"),
    ('[{"title": {"a": {"b": 1}}, "photos": ["a.png"]}]', "nests deeper"),
])
def test_a_manifest_that_is_not_plain_json_rows_is_refused_whole(api, text, message):
    response, _ = _post(api, _json(text))
    assert response.status_code == 400 and message in response.json()["errors"]["manifest"][0]
    assert not BulkJob.objects.exists()


def test_a_huge_number_is_a_rejected_title_not_a_crash(api):
    reasons = _reasons(_post(api, _json('[{"title": ' + "9" * 5000 + ', "photos": ["a.png"]}]')))
    assert "title must be text" in reasons[1]


def test_a_quote_left_open_to_the_end_refuses_the_manifest(api):
    response, _ = _post(api, csv_manifest("0,Plate,a.png", '1,"Mug with a quote,a.png', "2,Cup,a.png", "3,Bowl,a.png"))
    reason = response.json()["errors"]["manifest"][0]
    assert response.status_code == 400 and "cannot be read from line 3 on" in reason, reason
    assert not Listing.objects.exists()


def test_a_quote_closed_rows_later_rejects_the_row_it_swallowed(api):
    reasons = _reasons(_post(api, csv_manifest('1,"Mug,a.png', '2,Cup",a.png', "3,Bowl,a.png")))
    assert "spans several lines" in reasons[1]
    assert list(Listing.objects.values_list("title", flat=True)) == ["Bowl"]


def test_a_row_with_more_fields_than_the_header_is_rejected(api):
    reasons = _reasons(_post(api, csv_manifest("1,Mug, large,a.png")))
    assert "more fields than the header" in reasons[1]
