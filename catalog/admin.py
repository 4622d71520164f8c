from functools import partial

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

from vision.images import InvalidImage, load_image

from .login import AdminLoginForm
from .models import Category, Item, Listing, Photo, ReferenceImage, ReviewDecision
from .tasks import enqueue_index_update

admin.site.login_form = AdminLoginForm  # slowed per account like the sellers' login (catalog.login)


class UpdatesTheIndex(admin.ModelAdmin):
    """Any change here can change what the index holds; the update is cheap when it did not."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        transaction.on_commit(partial(enqueue_index_update, compact=self.rewrites_the_index(form, change)))

    def rewrites_the_index(self, form, change):
        """Whether this change needs the index file rewritten at once, not only updated."""
        return False

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        transaction.on_commit(enqueue_index_update)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        transaction.on_commit(enqueue_index_update)


CATEGORY_IN_USE = ("A category in use cannot be deleted: move or delete its subcategories and references, and correct "
                   "its items in the review queue, first. One that review decisions record stays for the record: "
                   "rename or move it instead.")


@admin.register(Category)
class CategoryAdmin(UpdatesTheIndex):
    """Create, rename and move categories. Paths of the whole subtree follow a rename or a move;
    items and references point at the category, so they follow by themselves, and the index is
    updated with the new paths."""

    list_display = ["path", "reference_count", "item_count"]
    search_fields = ["path"]
    fields = ["name", "parent", "path"]
    readonly_fields = ["path"]
    autocomplete_fields = ["parent"]

    def rewrites_the_index(self, form, change):
        # Renamed or moved: the running workers' indexes follow at once (reference changes), but the
        # heatmap head in the file knows categories by their old paths, and labelled the next photos'
        # heatmaps with a path that no longer exists until the file was next compacted.
        return change and bool({"name", "parent"} & set(form.changed_data))

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        if protected:
            # What keeps it is what refers to it: the page said the account lacked the permission to
            # delete review decisions, which no account has (they are the record).
            perms_needed = set()
            messages.warning(request, CATEGORY_IN_USE)
        return deleted, counts, perms_needed, protected

    def get_queryset(self, request):
        # Counted in the list's one query, not two queries a row.
        return super().get_queryset(request).annotate(references_counted=_count_of(ReferenceImage),
                                                      items_counted=_count_of(Item))

    @admin.display(description="references", ordering="references_counted")
    def reference_count(self, category):
        return category.references_counted

    @admin.display(description="items", ordering="items_counted")
    def item_count(self, category):
        return category.items_counted


def _count_of(model):
    """How many rows of `model` a category has, as a subquery (two counts joined would multiply)."""
    rows = model.objects.filter(category=OuterRef("pk")).order_by().values("category")
    return Coalesce(Subquery(rows.annotate(count=Count("pk")).values("count")), 0)


class LookedAtOnly:
    """An admin (or inline) whose rows are looked at, never added, changed or deleted there."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PhotoInline(LookedAtOnly, admin.TabularInline):
    """A listing's photos, looked at only (PhotoAdmin says why): one deleted here would not have
    decided the listing again."""

    model = Photo
    fields = ["original_name", "status", "failure_reason", "model_version"]
    readonly_fields = fields
    extra = 0


# What the model or staff decided: changed in the admin it would be recorded nowhere (the review
# queue records every decision) and overwritten at the next decision.
LISTING_DECISION = ["category", "confidences", "calibrated", "decided_lineage", "outcome", "accepted_depth", "decided",
                    "category_chosen", "photos_removed"]


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = ["title", "seller", "created"]
    search_fields = ["title", "seller__username"]
    inlines = [PhotoInline]
    readonly_fields = LISTING_DECISION

    def get_exclude(self, request, obj=None):
        # Its category is usually a waiting audit's hidden answer: staff label that on the review queue.
        return LISTING_DECISION if obj is not None and obj.has_blind_audit else ()

    def get_readonly_fields(self, request, obj=None):
        return () if obj is not None and obj.has_blind_audit else self.readonly_fields


@admin.register(Photo)
class PhotoAdmin(LookedAtOnly, admin.ModelAdmin):
    """Photos to look at, not to edit: one added here skipped the upload's checks and display copies
    and waited for the sweeper; its listing changed here moved it to another seller's; its status
    changed here was the worker's to set. Sellers remove photos; staff delete a listing whole."""

    list_display = ["original_name", "listing", "status", "created", "finished"]
    list_filter = ["status"]
    list_select_related = ["listing"]


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["photo", "category", "confidence", "review"]
    list_filter = ["review"]
    list_select_related = ["photo", "category"]
    # An audit's flag and the model's outcome are the record of what was drawn and what the model did:
    # unticking a waiting audit would show its hidden answer and let it be accepted unseen.
    readonly_fields = ["uuid", "category", "confidences", "confidence", "heatmap_category_now", "review", "audit",
                       "outcome", "accepted_depth", "risk", "calibrated", "decided_lineage", "predicted_category",
                       "predicted_path_now", "predicted_confidences"]
    # The paths as they were are kept for a category deleted since; the page shows them as the tree is now.
    exclude = ["heatmap_category", "predicted_path"]

    @admin.display(description="heatmap category")
    def heatmap_category_now(self, item):
        return item.shown_heatmap_category

    @admin.display(description="predicted path")
    def predicted_path_now(self, item):
        return item.shown_predicted_path

    def get_queryset(self, request):
        # A waiting audit's page would show the model's answer: staff label it on the review queue.
        return super().get_queryset(request).without_blind_audits()


@admin.register(ReviewDecision)
class ReviewDecisionAdmin(LookedAtOnly, admin.ModelAdmin):
    """The record of every review decision: read only."""

    list_display = ["created", "reviewer", "action", "old_category", "new_category", "item"]
    # Only those who decided: every account, sellers' too, was listed on each page.
    list_filter = ["action", ("reviewer", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["reviewer", "old_category", "new_category", "item__photo", "item__category"]


class ReferenceImageForm(forms.ModelForm):
    class Meta:
        model = ReferenceImage
        fields = ["category", "image", "source", "source_key"]

    def clean_image(self):
        # An unreadable reference is never embedded: the index update would skip it every time.
        image = self.cleaned_data["image"]
        if image and "image" in self.changed_data:
            try:
                load_image(image)
            except InvalidImage as error:
                raise forms.ValidationError(str(error)) from None
            image.seek(0)
        return image


@admin.register(ReferenceImage)
class ReferenceImageAdmin(UpdatesTheIndex):
    list_display = ["category", "source", "created"]
    list_filter = ["source"]
    list_select_related = ["category"]
    search_fields = ["category__path"]
    form = ReferenceImageForm

    def save_model(self, request, obj, form, change):
        if change and "image" in form.changed_data:
            # Another photo: what was stored of the old one (its embeddings, its key) would stay in the index.
            obj.content_key, obj.embedding, obj.embedding_version = "", None, ""
            obj.novelty_embedding, obj.novelty_version = None, ""
        super().save_model(request, obj, form, change)
