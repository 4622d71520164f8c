import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import BulkJob, IdempotentRequest, Listing, Photo
from worker.tasks import import_bulk_job
from tests.bulk_support import send_bulk
from tests.photos import csv_manifest, png_bytes, zip_upload

pytestmark = pytest.mark.django_db


def _post(api, **data):
    """The job, once its import ran."""
    response, job = send_bulk(api, **data)
    assert response.status_code == 202, response.content
    return job


def test_the_request_is_answered_at_once_with_a_pending_job_to_poll(api):
    response = api.post("/api/v1/bulk-jobs/", {"manifest": csv_manifest("SKU-1,Red mug,a.png"),
                                               "archive": zip_upload([("a.png", png_bytes())])})
    body = response.json()
    assert response.status_code == 202 and body["status"] == "pending" and body["accepted"] == []
    assert response["Location"] == body["url"] and body["url"].endswith(f"/api/v1/bulk-jobs/{body['uuid']}/")
    assert not Listing.objects.exists()  # the worker makes them
    assert BulkJob.objects.get().archive


def test_a_csv_manifest_and_a_zip_create_one_listing_per_row(api, owner):
    job = _post(api, manifest=csv_manifest("SKU-1,Red mug,a.png;b.png", "SKU-2,Blue mug,c.png"),
                archive=zip_upload([("a.png", png_bytes()), ("b.png", png_bytes()), ("c.png", png_bytes((0, 0, 200)))]))
    assert job["status"] == "done" and job["finished"]
    assert [row["reference"] for row in job["accepted"]] == ["SKU-1", "SKU-2"] and job["rejected"] == []
    assert job["photos"] == {"queued": 3, "processing": 0, "done": 0, "failed": 0}
    listing = Listing.objects.get(uuid=job["accepted"][0]["listing"])
    assert (listing.seller, listing.title, listing.reference, listing.photos.count()) == (owner, "Red mug", "SKU-1", 2)
    assert not BulkJob.objects.get().archive  # let go of once done
    assert BulkJob.objects.get().manifest == []  # the rows are listings now: their titles are not kept twice


def test_a_semicolon_separated_csv_as_excel_writes_it_in_many_locales(api):
    manifest = SimpleUploadedFile("export.csv", "reference;title;photos\r\nSKU-1;Red mug, large;\"a.png;b.png\"\r\n"
                                                ";Blue mug;c.png\r\n".encode("utf-8-sig"))
    job = _post(api, manifest=manifest, archive=zip_upload([(n, png_bytes()) for n in ("a.png", "b.png", "c.png")]))
    assert job["rejected"] == [] and [row["reference"] for row in job["accepted"]] == ["SKU-1", ""]
    assert list(Listing.objects.order_by("bulk_row").values_list("title", flat=True)) == ["Red mug, large", "Blue mug"]
    assert Listing.objects.get(reference="SKU-1").photos.count() == 2


def test_a_reference_repeated_in_one_job_rejects_the_later_row(api):
    job = _post(api, manifest=csv_manifest("SKU-1,Red mug,a.png", "SKU-1,Red mug again,b.png"),
                archive=zip_upload([("a.png", png_bytes()), ("b.png", png_bytes((0, 0, 200)))]))
    assert [row["row"] for row in job["accepted"]] == [1]
    assert job["rejected"] == [{"row": 2, "reference": "SKU-1",
                                "errors": ["reference “SKU-1” is row 1's already; give each row its own."]}]


def test_the_job_gives_each_accepted_rows_listing_with_its_status_and_category(api):
    job = _post(api, manifest=csv_manifest("SKU-1,Red mug,a.png"), archive=zip_upload([("a.png", png_bytes())]))
    assert job["accepted"] == [{"row": 1, "reference": "SKU-1", "listing": str(Listing.objects.get().uuid),
                                "status": "processing", "category": None, "outcome": ""}]


def test_a_json_manifest_with_the_photos_as_files(api):
    manifest = SimpleUploadedFile("rows.json", json.dumps([{"title": "Mug", "photos": ["mug.png"]}]).encode())
    job = _post(api, manifest=manifest, photos=[SimpleUploadedFile("mug.png", png_bytes())])
    assert len(job["accepted"]) == 1 and Listing.objects.get().photos.get().original_name == "mug.png"


def test_an_import_run_again_goes_on_from_the_rows_not_yet_made(api):
    """As when a worker dies mid-job and the sweeper sends it again."""
    response = api.post("/api/v1/bulk-jobs/", {"manifest": csv_manifest("1,One,a.png", "2,Two,b.png", "3,Two,a.png"),
                                               "archive": zip_upload([("a.png", png_bytes()), ("b.png", png_bytes())])})
    job = BulkJob.objects.get(uuid=response.json()["uuid"])
    manifest = job.manifest  # a finished job lets go of it: put back as the dead worker left it
    import_bulk_job(job.pk)
    Listing.objects.filter(bulk_row=2).delete()
    BulkJob.objects.filter(pk=job.pk).update(status="importing", rejected=[], manifest=manifest)
    job.refresh_from_db()
    job.archive.save("photos.zip", zip_upload([("a.png", png_bytes()), ("b.png", png_bytes())]))
    import_bulk_job(job.pk)
    assert sorted(Listing.objects.values_list("bulk_row", flat=True)) == [1, 2]
    assert "already used by row 1" in BulkJob.objects.get().rejected[0]["errors"][0]  # still spent by row 1


@pytest.mark.filterwarnings("ignore:Duplicate name")  # the duplicate is the point
def test_bad_rows_are_rejected_with_reasons_and_leave_nothing(api):
    job = _post(api, manifest=csv_manifest(
        "ok,Fine,good.png",
        "gone,Missing photo,nowhere.png",
        "bad,Broken photo,fine.png;broken.png",
        "twice,Ambiguous,twice.png",
        "escape,Traversal,../../etc/passwd",
        "untitled,,other.png",
        "nophoto,No photo,",
    ), archive=zip_upload([("good.png", png_bytes()), ("fine.png", png_bytes()), ("other.png", png_bytes()),
                           ("broken.png", b"\x89PNG broken"), ("twice.png", png_bytes()), ("twice.png", png_bytes()),
                           ("../../etc/passwd", png_bytes())]))
    assert [row["reference"] for row in job["accepted"]] == ["ok"]
    reasons = {row["reference"]: " ".join(row["errors"]) for row in job["rejected"]}
    assert "not found in the archive" in reasons["gone"]
    assert "broken.png" in reasons["bad"] and "fine.png" not in reasons["bad"]
    assert "more than once" in reasons["twice"]
    assert "unsafe path" in reasons["escape"]
    assert "title is required" in reasons["untitled"] and "at least one photo" in reasons["nophoto"]
    assert Listing.objects.count() == 1 and Photo.objects.count() == 1  # only the accepted row's


def test_a_photo_larger_than_the_limit_once_unpacked_is_rejected(api, settings):
    settings.CATALOG_MAX_PHOTO_BYTES = 1000
    job = _post(api, manifest=csv_manifest("big,Big,big.png"), archive=zip_upload([("big.png", png_bytes() + bytes(5000))]))
    assert "the limit is" in " ".join(job["rejected"][0]["errors"]) and not Photo.objects.exists()


@pytest.mark.parametrize("name, content, message", [
    ("manifest.csv", b"\xff\xfe\x00not utf-8", "not UTF-8"),
    ("manifest.json", b"[{\"title\": ", "not valid JSON"),
    ("manifest.json", b"{\"title\": \"x\"}", "a list of objects"),
    ("manifest.csv", b"name,pictures\nMug,a.png", "missing: photos, title"),
    ("manifest.csv", b"title,photos\n", "no rows"),
])
def test_a_malformed_manifest_is_refused_whole(api, name, content, message):
    response, _ = send_bulk(api, manifest=SimpleUploadedFile(name, content), archive=zip_upload([("a.png", png_bytes())]))
    assert response.status_code == 400 and message in response.json()["errors"]["manifest"][0]
    assert not BulkJob.objects.exists() and not Listing.objects.exists()


def test_an_archive_naming_a_file_in_bytes_that_are_not_its_encoding_is_refused(api):
    archive = bytearray(zip_upload([("a.png", png_bytes())]).read())
    entry = archive.index(b"PK\x01\x02")  # the central directory's entry: flag it UTF-8, name it in Latin-1
    archive[entry + 9] |= 0x08
    name = archive.index(b"a.png", entry)
    archive[name:name + 1] = b"\xe9"
    response, _ = send_bulk(api, manifest=csv_manifest("1,a,a.png"),
                            archive=SimpleUploadedFile("photos.zip", bytes(archive)))
    assert response.status_code == 400 and "not UTF-8" in response.json()["errors"]["archive"][0]


def test_too_many_rows_are_refused(api, settings):
    settings.CATALOG_MAX_BULK_ROWS = 2
    response, _ = send_bulk(api, manifest=csv_manifest("1,a,a.png", "2,b,a.png", "3,c,a.png"), archive=zip_upload([("a.png", png_bytes())]))
    assert response.status_code == 400 and "at most 2" in response.json()["errors"]["manifest"][0]


def test_an_archive_that_is_not_a_zip_is_refused(api):
    response, _ = send_bulk(api, manifest=csv_manifest("1,a,a.png"), archive=SimpleUploadedFile("photos.zip", b"PK not a zip"))
    assert response.status_code == 400 and "not a readable zip" in response.json()["errors"]["archive"][0]


def test_an_oversized_request_is_refused_before_it_is_read(api, settings):
    settings.CATALOG_MAX_BULK_BYTES = 1000
    response, _ = send_bulk(api, manifest=csv_manifest("1,a,a.png"), archive=zip_upload([("a.png", png_bytes() + bytes(2000))]))
    assert response.status_code == 413 and not BulkJob.objects.exists()


def test_a_manifest_is_required(api):
    response, _ = send_bulk(api, archive=zip_upload([("a.png", png_bytes())]))
    assert response.status_code == 400 and "manifest" in response.json()["errors"]


def test_a_retry_with_the_same_idempotency_key_creates_nothing_twice(api):
    def send():
        return send_bulk(api, manifest=csv_manifest("SKU-1,Mug,a.png"), archive=zip_upload([("a.png", png_bytes())]),
                         headers={"Idempotency-Key": "retry-1"})[0]

    first, retry = send(), send()
    assert first.status_code == retry.status_code == 202 and retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true" and retry["Location"] == first["Location"]
    assert Listing.objects.count() == 1 and BulkJob.objects.count() == 1


def test_a_key_reused_for_another_request_is_refused(api):
    _post(api, manifest=csv_manifest("SKU-1,Mug,a.png"), archive=zip_upload([("a.png", png_bytes())]), headers={"Idempotency-Key": "k"})
    response, _ = send_bulk(api, manifest=csv_manifest("SKU-2,Cup,a.png"), archive=zip_upload([("a.png", png_bytes())]),
                     headers={"Idempotency-Key": "k"})
    assert response.status_code == 422 and "different request" in response.json()["detail"]
    assert Listing.objects.count() == 1


def test_a_thousand_rows_in_one_request(api):
    rows = [f"SKU-{i},Item {i},p{i}.png" for i in range(1000)]
    archive = zip_upload([(f"p{i}.png", png_bytes((i % 256, 80, 80))) for i in range(1000)])
    job = _post(api, manifest=csv_manifest(*rows), archive=archive)
    assert len(job["accepted"]) == 1000 and job["photos"]["queued"] == 1000 and Listing.objects.count() == 1000


def test_the_job_reports_progress_to_its_seller_only(api, outsider_api):
    uuid = _post(api, manifest=csv_manifest("SKU-1,Mug,a.png", "SKU-2,,a.png"), archive=zip_upload([("a.png", png_bytes())]))["uuid"]
    Photo.objects.update(status="done")
    job = api.get(f"/api/v1/bulk-jobs/{uuid}/").json()
    assert (job["rows"], len(job["accepted"]), job["photos"]["done"]) == (2, 1, 1)
    assert job["rejected"][0]["reference"] == "SKU-2"
    assert outsider_api.get(f"/api/v1/bulk-jobs/{uuid}/").status_code == 404


def test_a_retry_while_the_first_request_still_runs_is_told_to_wait(api):
    def send():
        return send_bulk(api, manifest=csv_manifest("SKU-1,Mug,a.png"), archive=zip_upload([("a.png", png_bytes())]),
                         headers={"Idempotency-Key": "slow-1"})[0]

    send()
    IdempotentRequest.objects.update(status_code=None, body=None)  # as if the first were still running
    response = send()
    assert response.status_code == 409 and "still being processed" in response.json()["detail"]
    assert Listing.objects.count() == 1


def with_unreadable_member(archive, name, flag_bits=0, compress_type=None):
    """The zip `archive` (an upload) with member `name` marked encrypted (flag bit 1) or compressed
    with another method (Deflate64 is 9) in the central directory, where readers look."""
    import struct

    data = bytearray(archive.read())
    entry = data.index(b"PK\x01\x02")  # the central directory's first entry
    while True:
        name_length = struct.unpack_from("<H", data, entry + 28)[0]
        if data[entry + 46:entry + 46 + name_length] == name.encode():
            break
        entry = data.index(b"PK\x01\x02", entry + 4)
    if flag_bits:
        struct.pack_into("<H", data, entry + 8, struct.unpack_from("<H", data, entry + 8)[0] | flag_bits)
    if compress_type is not None:
        struct.pack_into("<H", data, entry + 10, compress_type)
    return SimpleUploadedFile("photos.zip", bytes(data), content_type="application/zip")


@pytest.mark.parametrize("marking, reason", [(dict(flag_bits=1), "encrypted"),
                                             (dict(compress_type=9), "cannot read (such as Deflate64)")])
def test_an_unreadable_member_rejects_its_row_only(api, marking, reason):
    archive = zip_upload([("a.png", png_bytes()), ("b.png", png_bytes()), ("c.png", png_bytes())])
    job = _post(api, manifest=csv_manifest("first,First,a.png", "bad,Bad,b.png", "last,Last,c.png"),
                archive=with_unreadable_member(archive, "b.png", **marking))
    assert job["status"] == "done" and [row["reference"] for row in job["accepted"]] == ["first", "last"]
    [rejected] = job["rejected"]
    assert rejected["reference"] == "bad" and reason in " ".join(rejected["errors"])


@pytest.mark.parametrize("content", [
    '[{"title": 1e9999999999999999999, "photos": ["a.png"]}]',
    '[{"title": "Mug", "photos": ["a\\u0000.png"]}]',
    '[{"title": "Mug", "photos": [1e9999999999999999999]}]',
    '[{"title": "Mug", "photos": ["a.png"], "reference": 123456789012345678901234567890}]',
    # A lone surrogate is no UTF-8 text: neither the database nor a response could hold it.
    '[{"title": "Mug", "photos": ["\\ud800.png"]}]',
    '[{"title": "\\ud800", "photos": ["a.png"]}]',
    # A field named "errors" is no CSV line that could not be read: the row still needs a title and photos.
    '[{"errors": []}]',
    '[{"errors": null}]',
])
def test_a_huge_number_or_a_nul_in_a_name_rejects_its_row_with_a_reason(api, content):
    job = _post(api, manifest=SimpleUploadedFile("manifest.json", content.encode()),
                archive=zip_upload([("a.png", png_bytes())]))
    [rejected] = job["rejected"]
    assert rejected["errors"] and job["accepted"] == [] and not Listing.objects.exists()
