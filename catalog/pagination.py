"""The API's pagination (REST_FRAMEWORK's DEFAULT_PAGINATION_CLASS): a module of its own, since
DRF loads it while its views are being imported."""

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class Pages(PageNumberPagination):
    """Page numbers as the schema gives them: an empty, non-numeric or zero `page` is a field error,
    not quietly the first page (a page past the last is not found)."""

    def get_page_number(self, request, paginator):
        number = request.query_params.get(self.page_query_param)
        if number is not None and not (number.isascii() and number.isdigit() and int(number) >= 1):
            raise ValidationError({self.page_query_param: ["A page number (1, 2, …) is required."]})
        return super().get_page_number(request, paginator)

    def get_schema_operation_parameters(self, view):
        """The schema says what is refused: page numbers start at 1."""
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
        return parameters
