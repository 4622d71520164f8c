from django.contrib import admin

from .models import Category, Item, Listing, Photo, ReferenceImage


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["path"]
    search_fields = ["path"]
    readonly_fields = ["path"]


class PhotoInline(admin.TabularInline):
    model = Photo
    fields = ["original_name", "status", "failure_reason", "model_version"]
    readonly_fields = fields
    extra = 0


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = ["title", "seller", "created"]
    search_fields = ["title", "seller__username"]
    inlines = [PhotoInline]


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):
    list_display = ["original_name", "listing", "status", "created", "finished"]
    list_filter = ["status"]
    readonly_fields = ["uuid", "started", "finished", "model_version", "index_version"]


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["photo", "category"]
    list_select_related = ["photo", "category"]


@admin.register(ReferenceImage)
class ReferenceImageAdmin(admin.ModelAdmin):
    list_display = ["category", "source", "created"]
    list_filter = ["source"]
    search_fields = ["category__path"]
