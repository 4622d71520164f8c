from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("catalog.api_urls")),
    path("", include("catalog.urls")),
]

handler400 = "catalog.errors.bad_request"
handler403 = "catalog.errors.permission_denied"
handler404 = "catalog.errors.page_not_found"
handler500 = "catalog.errors.server_error"
