from django.contrib.auth import views as auth_views
from django.urls import path

from . import health, review_views, views
from .login import LoginForm
from .models import ReviewDecision

urlpatterns = [
    path("", views.home, name="listing-list"),
    path("health", health.health, name="health"),
    path("signup/", views.signup, name="signup"),
    path("login/", auth_views.LoginView.as_view(authentication_form=LoginForm), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("listings/new/", views.listing_create, name="listing-create"),
    path("listings/<uuid:listing_uuid>/", views.listing_detail, name="listing-detail"),
    path("listings/<uuid:listing_uuid>/photos/", views.listing_photos, name="listing-photos"),
    path("listings/<uuid:listing_uuid>/title", views.listing_title, name="listing-title"),
    path("listings/<uuid:listing_uuid>/delete", views.listing_delete, name="listing-delete"),
    path("listings/<uuid:listing_uuid>/photos/<uuid:photo_uuid>/remove", views.listing_remove_photo,
         name="listing-remove-photo"),
    path("listings/<uuid:listing_uuid>/add-photos", views.listing_add_photos, name="listing-add-photos"),
    path("listings/<uuid:listing_uuid>/category", views.listing_category, name="listing-category"),
    path("photos/<uuid:photo_uuid>/image", views.photo_image, name="photo-image"),
    path("items/<uuid:item_uuid>/heatmap", views.item_heatmap, name="item-heatmap"),
    path("references/<uuid:reference_uuid>/image", views.reference_image, name="reference-image"),
    path("settings/account/", views.account, name="account"),
    path("settings/account/export", views.account_export, name="account-export"),
    path("settings/api-tokens/", views.api_tokens, name="api-tokens"),
    path("settings/api-tokens/<uuid:token_uuid>/revoke", views.api_token_revoke, name="api-token-revoke"),
    path("review/", review_views.review_queue, name="review-queue"),
    path("review/items/<uuid:item_uuid>/accept", review_views.review_accept, name="review-accept"),
    path("review/items/<uuid:item_uuid>/correct", review_views.review_correct, name="review-correct"),
    path("review/items/<uuid:item_uuid>/new-category", review_views.review_new_category, name="review-new-category"),
    path("review/items/<uuid:item_uuid>/not-in-catalogue", review_views.review_set_aside,
         {"action": ReviewDecision.Action.NOT_IN_CATALOGUE}, name="review-not-in-catalogue"),
    path("review/items/<uuid:item_uuid>/not-a-product", review_views.review_set_aside,
         {"action": ReviewDecision.Action.NOT_A_PRODUCT}, name="review-not-a-product"),
    path("review/quality/", review_views.quality_page, name="quality"),
    path("review/bulk", review_views.review_bulk, name="review-bulk"),
]
