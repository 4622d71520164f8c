"""What is kept only for a while is deleted by the hourly tidy_up (catalog.housekeeping): records that
name sellers or hold what they sent, which nothing else would ever delete."""

from datetime import timedelta

import pytest
from axes.models import AccessLog
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.utils import timezone

from catalog.housekeeping import tidy_up
from catalog.models import BulkJob, IdempotentRequest, Listing, Photo

pytestmark = pytest.mark.django_db


def _aged(model, days, field="created", **fields):
    row = model.objects.create(**fields)
    model.objects.filter(pk=row.pk).update(**{field: timezone.now() - timedelta(days=days)})
    return row


def test_expired_idempotency_keys_sessions_and_old_login_records_go(owner):
    answer = {"title": "Red mug", "photos": [{"original_name": "IMG_0001.jpg"}]}
    old = _aged(IdempotentRequest, 2, user=owner, key="a", fingerprint="f", status_code=201, body=answer)
    kept = _aged(IdempotentRequest, 0, user=owner, key="b", fingerprint="f", status_code=201, body=answer)
    session = SessionStore()
    session.set_expiry(-1)
    session.create()
    _aged(AccessLog, 40, field="attempt_time", username="olivia", ip_address="10.0.0.1", user_agent="x")
    recent = _aged(AccessLog, 1, field="attempt_time", username="olivia", ip_address="10.0.0.1", user_agent="x")
    deleted = tidy_up()
    assert deleted["idempotency keys"] == 1 and deleted["sessions"] == 1 and deleted["login records"] == 1
    assert list(IdempotentRequest.objects.all()) == [kept] and not IdempotentRequest.objects.filter(pk=old.pk)
    assert not Session.objects.exists() and list(AccessLog.objects.all()) == [recent]


def test_a_finished_jobs_archive_the_storage_failed_to_delete_is_deleted_later(owner, monkeypatch):
    from catalog.bulk import finish_job

    job = BulkJob.objects.create(seller=owner, status=BulkJob.Status.IMPORTING)
    job.archive.save("photos.zip", ContentFile(b"zip"), save=True)
    stored = job.archive.name
    real_delete = FileSystemStorage.delete

    def not_answering(self, name):
        raise OSError("the storage did not answer")

    monkeypatch.setattr(FileSystemStorage, "delete", not_answering)
    finish_job(job, [])  # done, its photos kept: a retry of the task would find the job done
    job.refresh_from_db()
    assert job.status == BulkJob.Status.DONE and job.archive.name == stored
    monkeypatch.setattr(FileSystemStorage, "delete", real_delete)
    assert tidy_up()["bulk archives"] == 1
    job.refresh_from_db()
    assert not job.archive and not FileSystemStorage(location=job.archive.storage.location).exists(stored)
    assert tidy_up()["bulk archives"] == 0


@pytest.mark.django_db(transaction=True)  # the files go when the deletion truly commits
def test_a_file_the_storage_fails_to_delete_keeps_no_other_from_being_deleted(listing, monkeypatch):
    # One failed delete skipped every other file of the deleted listing (Django ran the rest of the
    # queue no more), and their rows were gone: nothing would delete them again.
    first = listing.photos.get()
    second = Photo(listing=listing, original_name="b.png", width=8, height=8)
    second.image.save("b.png", ContentFile(b"png"), save=True)
    storage = FileSystemStorage(location=first.image.storage.location)
    real_delete = FileSystemStorage.delete

    def failing_for_the_first(self, name):
        if name == first.image.name:
            raise OSError("the storage did not answer")
        return real_delete(self, name)

    monkeypatch.setattr(FileSystemStorage, "delete", failing_for_the_first)
    names = first.image.name, second.image.name
    Listing.objects.filter(pk=listing.pk).delete()
    assert storage.exists(names[0]) and not storage.exists(names[1])
