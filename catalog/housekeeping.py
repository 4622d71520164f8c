"""What is kept only for a while, deleted by the hourly task tidy_up (worker.tasks): records that
name sellers or hold what they sent, which nothing else would ever delete.

- An Idempotency-Key's remembered answer (the listing's title, reference and photo names) once the
  key has expired (catalog.idempotency.KEY_LIFETIME): it outlived the listing it names.
- Expired login sessions (Django deletes them only when asked).
- The log of logins (django-axes: username, address, browser) after LOGIN_RECORDS_KEPT.
- A finished bulk job's stored photos, where letting go of them failed when the job finished (the
  storage did not answer): they stayed for good.
"""

import logging
from datetime import timedelta

from axes.models import AccessFailureLog, AccessLog
from django.contrib.sessions.models import Session
from django.db import DatabaseError
from django.db.models import Q
from django.utils import timezone

from .bulk import let_go_of_photos
from .idempotency import KEY_LIFETIME
from .models import BulkJob, IdempotentRequest

log = logging.getLogger(__name__)

# Long enough to look into a break-in reported a few weeks later.
LOGIN_RECORDS_KEPT = timedelta(days=30)


def tidy_up(now=None):
    """Delete what is kept only for a while; {what: how many deleted}."""
    now = now or timezone.now()
    logins = now - LOGIN_RECORDS_KEPT
    deleted = {
        "idempotency keys": IdempotentRequest.objects.filter(created__lt=now - KEY_LIFETIME).delete()[0],
        "sessions": Session.objects.filter(expire_date__lt=now).delete()[0],
        "login records": (AccessLog.objects.filter(attempt_time__lt=logins).delete()[0]
                          + AccessFailureLog.objects.filter(attempt_time__lt=logins).delete()[0]),
    }
    held = BulkJob.objects.filter(status=BulkJob.Status.DONE).exclude(Q(archive="") & Q(loose_photos=""))
    deleted["bulk archives"] = 0
    for job in held:
        try:
            deleted["bulk archives"] += let_go_of_photos(job)
        except DatabaseError:  # its seller deleted meanwhile, say: the others are still let go of
            log.exception("bulk job %s: its stored photos not let go of", job.uuid)
    return deleted
