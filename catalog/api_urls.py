from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter(use_regex_path=False)
router.register("listings", api.ListingViewSet, basename="api-listing")
router.register("categories", api.CategoryViewSet, basename="api-category")
router.register("bulk-jobs", api.BulkJobViewSet, basename="api-bulk-job")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("v1/photos/<uuid:photo_uuid>/image", api.photo_image, name="api-photo-image"),
    path("v1/items/<uuid:item_uuid>/heatmap", api.item_heatmap, name="api-item-heatmap"),
    path("v1/quality/", api.quality, name="api-quality"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
