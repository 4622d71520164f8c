"""The health endpoint for a load balancer or a monitor: /health answers 200 when the database,
the broker, the storage and the index are all usable, else 503; each is named with what was found,
so that an operator sees which one failed. No login: it says nothing a visitor could use (error
types, counts, ages; never an address, a key or a stored value)."""

import os
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .models import IndexSnapshot, ReferenceChange, ReferenceImage
from .storage import STORAGE_ERRORS, http_status

# The scheduled index update (CELERY_BEAT_SCHEDULE) runs every 10 minutes: a reference waiting to
# be embedded, or a change waiting to be compacted past its due time, for longer than two of its
# runs means the update is not running.
UPDATE_GRACE = timedelta(minutes=20)


class Failing(Exception):
    """A check found its part unusable; the message says what, for the operator."""


@never_cache
@require_GET
def health(request):
    checks = {name: _outcome(check) for name, check in CHECKS.items()}
    healthy = all(outcome.startswith("ok") for outcome in checks.values())
    return JsonResponse({"status": "ok" if healthy else "failing", "checks": checks}, status=200 if healthy else 503)


def _outcome(check):
    try:
        return check()
    except Failing as failure:
        return f"failing: {failure}"
    except Exception as error:  # whatever a client library raises is this part's failure
        return f"failing: {type(error).__name__}"


def database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return f"ok ({connection.vendor})"


def broker():
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "ok (none: tasks run in the web process)"
    with current_app.connection_for_write() as broker_connection:
        broker_connection.ensure_connection(max_retries=1, timeout=3)
    return "ok"


def storage():
    if settings.CATALOG_STORAGE == "s3":
        try:
            # The bucket itself: asking for a name in it says "not there" for a bucket that is not there either.
            default_storage.connection.meta.client.head_bucket(Bucket=default_storage.bucket_name)
        except STORAGE_ERRORS as error:
            if http_status(error) in (403, 404):
                raise Failing("the bucket does not exist, or these keys may not use it "
                              "(AWS_STORAGE_BUCKET_NAME, AWS_ACCESS_KEY_ID)") from error
            raise Failing(f"the bucket cannot be reached ({type(error).__name__})") from error
        return "ok (s3)"
    if not os.access(settings.MEDIA_ROOT, os.W_OK):
        raise Failing("the media folder is missing or cannot be written")
    return "ok (local disk)"


def index():
    """Whether there is an index, and whether the scheduled update keeps it current: references
    are embedded (workers then apply them at once) and the changes compacted when due."""
    written = _index_written()
    if written is None:
        raise Failing(f"there is no reference index yet (manage.py {_first_index_command()})")
    waited = timezone.now() - UPDATE_GRACE
    unembedded = ReferenceImage.objects.filter(embedding_version="", created__lt=waited).count()
    if unembedded:
        raise Failing(f"{unembedded} references have waited over {_minutes(UPDATE_GRACE)} minutes to be embedded: "
                      "the scheduled index update is not running")
    due = waited - timedelta(seconds=settings.CATALOG_INDEX_COMPACT_SECONDS)
    pending = _changes_after(written)
    overdue = pending.filter(created__lt=due).count()
    if overdue:
        raise Failing(f"{overdue} reference changes are overdue for compaction into the index: the scheduled index "
                      "update is not running")
    return f"ok ({pending.count()} changes since the index was written)"


def _first_index_command():
    """What makes the index: where references are imported already (an install moved to the bucket,
    an index file lost), rebuild_index; import_catalog would add nothing and write no index."""
    return "rebuild_index" if ReferenceImage.objects.exists() else "import_catalog"


def _index_written():
    """(applied change, when written) of the index the workers start from, or None."""
    if settings.CATALOG_INDEX_SNAPSHOTS:
        snapshot = IndexSnapshot.newest()
        if snapshot is None:
            return None
        if not snapshot.file.storage.exists(snapshot.file.name):
            # A restore without it: a host with no copy of its own has no index to serve.
            raise Failing("the newest index snapshot is missing from the storage (manage.py rebuild_index)")
        return snapshot.applied_change, snapshot.created
    try:
        modified = os.stat(settings.CATALOG_INDEX_PATH).st_mtime
    except FileNotFoundError:
        return None
    return None, timezone.datetime.fromtimestamp(modified, tz=timezone.get_current_timezone())


def _changes_after(written):
    applied, when = written
    if applied is not None:
        return ReferenceChange.objects.filter(pk__gt=applied)
    return ReferenceChange.objects.filter(created__gt=when)


def _minutes(delta):
    return int(delta.total_seconds() // 60)


CHECKS = {"database": database, "broker": broker, "storage": storage, "index": index}
