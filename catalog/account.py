"""A seller's own account: everything it holds, as one download, and its deletion.

The download is what the API answers about each listing (its photos, items and categories, with
the addresses their files are fetched from while the account lasts), beside the account's API
tokens (never their keys: only a fingerprint of each is kept) and its bulk jobs. Deleting the
account deletes all of it: the listings go with their files (catalog.signals), as a listing deleted
by hand does, and the tokens, bulk jobs and remembered answers with the account.
"""

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.db import transaction
from django.utils import timezone

from .models import ApiToken, BulkJob, Listing
from .serializers import ListingSerializer


def everything_of(request):
    """What the account of the request's user holds, as JSON-ready data."""
    user = request.user
    listings = Listing.objects.visible_to(user).as_answered().order_by("created", "id")
    return {
        "exported": timezone.now().isoformat(),
        "account": {"username": user.username, "email": user.email, "joined": user.date_joined.isoformat()},
        "listings": ListingSerializer(listings, many=True, context={"request": request}).data,
        "api_tokens": [{"name": token.name, "key_starts": token.prefix, "created": token.created.isoformat(),
                        "last_used": token.last_used.isoformat() if token.last_used else None}
                       for token in ApiToken.objects.visible_to(user)],
        "bulk_jobs": [{"uuid": str(job.uuid), "created": job.created.isoformat(), "status": job.status,
                       "rows": job.rows, "rejected": job.rejected} for job in BulkJob.objects.filter(seller=user)],
    }


class CannotDelete(Exception):
    """The account cannot delete itself here; the message says why and what to do."""


def delete_account(user):
    """Delete the account and everything it holds, and the log of its logins. Refused for a staff
    account (an administrator deletes it: it reviews, and may have other duties), and while a bulk
    job of its own is being imported (the job would go on storing photos for listings that could no
    longer be made). The review decisions of an account that was staff once stay, without its name."""
    if user.is_staff:
        raise CannotDelete("A catalogue staff account is not deleted here. Ask an administrator: your review "
                           "decisions stay, without your name.")
    if BulkJob.objects.filter(seller=user).exclude(status=BulkJob.Status.DONE).exists():
        raise CannotDelete("A bulk job of yours is being imported: delete the account once it is done (its page "
                           "in the API says so).")
    with transaction.atomic():
        for log in (AccessLog, AccessFailureLog, AccessAttempt):
            log.objects.filter(username=user.get_username()).delete()
        user.delete()
