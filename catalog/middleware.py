"""Middleware of the app's own."""

from .models import tree_read_once


class CategoryTreeMiddleware:
    """A request reads the category tree once, however many paths its page or answer shows
    (catalog.models.category_tree)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with tree_read_once():
            return self.get_response(request)
