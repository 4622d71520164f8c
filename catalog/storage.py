"""Stored files as the web process serves them, and what the storage raises when it cannot do its
work for now: a local disk an OSError (full, unmounted), an S3 bucket botocore's errors (refused,
timed out, 5xx). The web process answers 503 with Retry-After to an upload that meets one
(catalog.errors); a worker retries the task (worker.policy)."""

import botocore.exceptions
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.http import FileResponse, Http404, HttpResponseRedirect

STORAGE_ERRORS = (OSError, BotoCoreError, ClientError)


def unreachable(error):
    """Whether `error` says the bucket cannot be reached for now (refused, timed out, or a server
    error: 5xx), rather than that the request is wrong (a 403 for bad keys is a setting to fix)."""
    if isinstance(error, (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError)):
        return True
    return http_status(error) >= 500


def http_status(error):
    """The HTTP status the bucket answered `error` with (0: none, not a ClientError)."""
    return error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) if isinstance(error, ClientError) else 0


# What the API documentation says of every photo and heatmap address.
SIGNED_URL_NOTE = ("Where the app keeps its files in object storage (CATALOG_STORAGE=s3), the answer is a 302 "
                   "redirect to a signed URL of the private bucket that expires after AWS_QUERYSTRING_EXPIRE seconds "
                   "(300 by default): follow it at once, and ask this address again for a new one rather than "
                   "keeping it. Otherwise the image itself.")


def served_file(field_file, content_type=None):
    """A stored file as the answer to a request whose view has checked who may see it: from a
    bucket, a redirect to a signed URL that expires (the bytes never pass through the web host,
    and the bucket stays private); from disk, the file itself."""
    if settings.CATALOG_STORAGE == "s3":
        response = HttpResponseRedirect(field_file.url)
        response["Cache-Control"] = "private, no-store"  # the signed URL expires
        return response
    try:
        return FileResponse(field_file.open("rb"), content_type=content_type)
    except FileNotFoundError:  # gone from the disk under its row: a 404, not a server error
        raise Http404("This file is missing.") from None
