"""The API's OpenAPI schema: every operation also lists the errors it can answer, each a problem
document (catalog.errors), so that a client generated from the schema knows them all."""

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from .errors import PROBLEM_CONTENT_TYPE

EVERY_OPERATION = {
    "400": "Invalid fields or query parameters; `errors` names each (or the request could not be read).",
    "401": "No valid API token.",
    "404": "Not found; another seller's objects are not found either.",
    "429": "Too many requests for this seller (Retry-After says when to retry), or the daily photo quota.",
    "503": "The database or the broker is briefly unreachable; nothing was changed. Retry after Retry-After.",
}
CREATING = {
    "409": "The first request with this Idempotency-Key is still running; retry in a moment.",
    "413": "The request is larger than the API takes.",
    "415": "Send multipart/form-data.",
    "422": "This Idempotency-Key was used for a different request.",
}


class ProblemSerializer(serializers.Serializer):
    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = serializers.DictField(required=False, help_text=(
        "for invalid fields: the messages of each field; a listing's `photos` is a list of "
        "{file, reason} (file empty when the refusal is of the photos as a whole), in the upload form's words"))


class CatalogAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        problem = {PROBLEM_CONTENT_TYPE: {"schema": self.resolve_serializer(ProblemSerializer, direction).ref}}
        errors = EVERY_OPERATION | (CREATING if self.method == "POST" else {})
        for code, description in errors.items():
            responses.setdefault(code, {"description": description, "content": problem})
        for code, response in responses.items():  # an error an operation declares itself is one too
            if str(code)[0] in "45" and "content" not in response:
                response["content"] = problem
        return responses
