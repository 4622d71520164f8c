"""`manage.py move_media`: an install's files copied to the bucket, each verified, nothing switched;
run again after a failure it copies only what is missing or damaged; and the same command backs the
bucket (photos and index snapshots) up to a folder and restores it."""

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.core.management import CommandError, call_command

from catalog.models import IndexSnapshot
from tests.photos import png_bytes
from worker.models_cache import ModelCache

pytestmark = pytest.mark.django_db


def _move(*args):
    out = io.StringIO()
    call_command("move_media", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _names(bucket):
    return sorted(summary.key for summary in bucket.objects.all())


def test_local_files_go_to_the_bucket_verified_and_a_second_run_copies_only_what_is_missing(s3_storage, settings,
                                                                                          tmp_path):
    local = FileSystemStorage(location=tmp_path / "old-media")
    for name in ("photos/a/one.png", "photos/a/two.png", "references/three.png"):
        local.save(name, ContentFile(png_bytes()))
    settings.CATALOG_STORAGE = "local"  # the install has not switched yet

    output = _move("--to", "s3", "--dir", str(local.location))
    assert "3 files: 3 copied to the bucket, 0 already there whole; every one verified" in output
    assert "set CATALOG_STORAGE=s3" in output
    assert _names(s3_storage) == ["photos/a/one.png", "photos/a/two.png", "references/three.png"]

    s3_storage.Object("photos/a/two.png").put(Body=b"cut short")  # a copy a failed run left damaged
    s3_storage.Object("references/three.png").delete()
    output = _move("--to", "s3", "--dir", str(local.location))
    assert "3 files: 2 copied to the bucket, 1 already there whole" in output
    assert s3_storage.Object("photos/a/two.png").get()["Body"].read() == png_bytes()


def test_no_bucket_set_is_a_clear_error(settings):
    settings.CATALOG_S3_OPTIONS = None
    with pytest.raises(CommandError, match="AWS_STORAGE_BUCKET_NAME"):
        _move("--to", "s3")


def test_the_bucket_and_the_index_snapshot_backed_up_and_restored(s3_storage, settings, imported_catalogue,
                                                                   tmp_path):
    settings.CATALOG_INDEX_SNAPSHOTS = True
    call_command("rebuild_index", stdout=io.StringIO(), stderr=io.StringIO())  # publishes the first snapshot
    stored = _names(s3_storage)
    assert IndexSnapshot.objects.exists() and len(stored) == 25  # 24 reference photos and the snapshot

    _move("--to", "local", "--dir", str(tmp_path / "backup"))
    s3_storage.objects.all().delete()  # the bucket lost
    assert "25 copied to the bucket" in _move("--to", "s3", "--dir", str(tmp_path / "backup"))

    assert _names(s3_storage) == stored
    settings.CATALOG_INDEX_PATH = tmp_path / "fresh-host" / "reference.npz"
    assert len(ModelCache().categorizer().index) == 24  # a new host starts from the restored snapshot
