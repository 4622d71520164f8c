"""What a client sees when a request goes wrong: problem details (RFC 9457) from the API, a plain
page on the web, and 503 with Retry-After while the database, the broker or the storage cannot be
reached — never a traceback, a setting or a stored value."""

import sys
from http import HTTPStatus

import kombu.exceptions
import redis.exceptions
from django.conf import settings
from django.core.exceptions import TooManyFilesSent
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from rest_framework.response import Response
from rest_framework.views import exception_handler

from .storage import unreachable

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Failures of a service the app depends on, not of the request: worth retrying shortly.
UNAVAILABLE = (OperationalError, InterfaceError, kombu.exceptions.OperationalError,
               redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
RETRY_AFTER_SECONDS = 30
UNAVAILABLE_DETAIL = f"The service is briefly unavailable; nothing was changed. Retry in {RETRY_AFTER_SECONDS} seconds."
INVALID_FIELDS_DETAIL = "Some fields are not valid; `errors` says why, field by field."
SERVER_ERROR_DETAIL = "Something went wrong on our side and it has been logged; nothing was changed. Retry later."


def is_unavailable(error):
    """Whether `error` is a service the app depends on failing for now (worth a 503 and a retry)."""
    return isinstance(error, UNAVAILABLE) or unreachable(error)


def problem(status, detail, **members):
    """The body of an API error: type, title, status and detail, plus e.g. `errors` per field."""
    return {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail, **members}


def problem_response(status, detail, headers=None, **members):
    """An API error answered by a view itself (rather than raised)."""
    return Response(problem(status, detail, **members), status=status, headers=headers,
                    content_type=PROBLEM_CONTENT_TYPE)


def invalid_fields(errors):
    """A 400 naming every field that is wrong, answered rather than raised (so that an
    Idempotency-Key remembers it)."""
    return problem_response(400, INVALID_FIELDS_DETAIL, errors=errors)


def api_exception_handler(exc, context):
    """DRF's errors as problem details; an unexpected exception goes on to server_error (a 500)."""
    if is_unavailable(exc):
        return problem_response(503, UNAVAILABLE_DETAIL, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    response = exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and set(data) == {"detail"}:
        response.data = problem(response.status_code, str(data["detail"]))
    else:
        response.data = problem(response.status_code, INVALID_FIELDS_DETAIL, errors=data)
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def server_error(request):
    """handler500: Django calls it while handling the exception, so sys.exc_info() names it."""
    # Rendered without the request: the page's context would ask the database that may have failed.
    if is_unavailable(sys.exc_info()[1]):
        return _answer(request, 503, UNAVAILABLE_DETAIL, {"Retry-After": str(RETRY_AFTER_SECONDS)}, with_request=False)
    return _answer(request, 500, SERVER_ERROR_DETAIL, with_request=False)


def bad_request(request, exception):
    if isinstance(exception, TooManyFilesSent):
        return _answer(request, 400, f"A request takes at most {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files; send "
                                     "more photos as a zip archive (bulk jobs) or in several requests.")
    return _answer(request, 400, "The request could not be understood.")


def permission_denied(request, exception):
    return _answer(request, 403, str(exception) or "You do not have access to this page.")


def page_not_found(request, exception):
    return _answer(request, 404, "There is nothing at this address.")


def render_error(status, detail, request=None):
    """The plain error page of the web app."""
    page = loader.get_template("error.html").render({"title": HTTPStatus(status).phrase, "detail": detail}, request)
    return HttpResponse(page, status=status)


def _answer(request, status, detail, headers=None, with_request=True):
    if request.path.startswith("/api/"):
        response = JsonResponse(problem(status, detail), status=status, content_type=PROBLEM_CONTENT_TYPE)
    else:
        response = render_error(status, detail, request if with_request else None)
    for name, value in (headers or {}).items():
        response[name] = value
    return response
