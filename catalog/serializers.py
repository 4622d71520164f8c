from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import (
    PATH_SEPARATOR,
    TITLE_LIMIT,
    BulkJob,
    Category,
    Item,
    Listing,
    ListingStatus,
    Outcome,
    Photo,
)
from .photos import check_photos
from .text import clean_title

# The addresses of photos and heatmaps are the API's own; what they answer may be a short-lived one.
URL_NOTE = ("With object storage it answers with a redirect to a signed URL that expires after "
            "AWS_QUERYSTRING_EXPIRE seconds (300 by default): fetch through this address each time.")

OUTCOME_HELP = ("accepted: the whole path is accepted automatically; accepted_at_parent: the first "
                "accepted_depth levels are; needs_review; not_in_catalogue: unlike anything in the catalogue; "
                "reviewed / not_a_product: decided by catalogue staff; chosen_by_seller: a listing's category its "
                "seller accepted or chose")
CONFIDENCES_HELP = ("the confidence of each level of the path: the probability that it is right where `calibrated`, "
                    "else the share of the similar references' votes (empty when staff decided; null for a level the "
                    "category was moved under since)")


class DecidedSerializer(serializers.ModelSerializer):
    """What an item and a listing share: the decided path, its confidences and what was accepted,
    as the category tree is now."""

    category = serializers.CharField(source="category.path", allow_null=True, default=None,
                                     help_text="the category path; null when nothing was assigned")
    confidences = serializers.SerializerMethodField(help_text=CONFIDENCES_HELP)
    calibrated = serializers.BooleanField(read_only=True, help_text=(
        "whether the confidences are calibrated probabilities; false where the index has no calibration, and "
        "then nothing is accepted automatically"))
    accepted_depth = serializers.SerializerMethodField(help_text="how many levels of the path were accepted "
                                                                 "automatically")

    @extend_schema_field(serializers.ListField(child=serializers.FloatField(allow_null=True)))
    def get_confidences(self, decided):
        confidences = [confidence for _, confidence in decided.levels()]
        return confidences if any(c is not None for c in confidences) else []

    def get_accepted_depth(self, decided) -> int:
        accepted = decided.accepted_path()
        return len(accepted.split(PATH_SEPARATOR)) if accepted else 0


class ItemSerializer(DecidedSerializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices, help_text=(
        "what the model made of its own answer: accepted (the whole path automatically), accepted_at_parent (the "
        "first accepted_depth levels), needs_review, or not_in_catalogue; `review` says what catalogue staff decided "
        "since, and `category` is then theirs"))
    predicted_path = serializers.CharField(source="shown_predicted_path", help_text="the full predicted path")
    alternatives = serializers.ListField(source="shown_alternatives", child=serializers.DictField(),
                                         help_text="[{path, confidence}] the runners-up")
    heatmap_category = serializers.CharField(source="shown_heatmap_category",
                                             help_text="the category the heatmap is of")
    heatmap_url = serializers.SerializerMethodField(help_text=f"the heatmap PNG, at an address of this API that "
                                                              f"does not expire (send your token). {URL_NOTE}")
    text = serializers.SerializerMethodField(help_text="the lines of text read on the item (on a listing's first "
                                                       "photo); empty when none")

    class Meta:
        model = Item
        fields = ["uuid", "box", "category", "confidences", "calibrated", "confidence", "outcome", "accepted_depth",
                  "predicted_path", "alternatives", "review", "heatmap_category", "heatmap_url", "text"]

    def get_text(self, item) -> list[str]:
        return item.readable_text

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_heatmap_url(self, item):
        if not item.heatmap:
            return None
        return self.context["request"].build_absolute_uri(reverse("api-item-heatmap", args=[item.uuid]))


class PhotoSerializer(serializers.ModelSerializer):
    image_url = serializers.SerializerMethodField(help_text="the photo as a JPEG of at most 1600 px a side, at an "
                                                            f"address of this API that does not expire (send your "
                                                            f"token). {URL_NOTE}")
    thumbnail_url = serializers.SerializerMethodField(help_text="a JPEG of at most 360 px a side")
    original_url = serializers.SerializerMethodField(help_text=(
        "the file as uploaded, less where it was taken: its location metadata (GPS, XMP, IPTC) is removed "
        "before it is stored"))
    items = ItemSerializer(many=True, read_only=True)

    class Meta:
        model = Photo
        fields = ["uuid", "original_name", "status", "failure_reason", "width", "height", "created", "finished",
                  "model_version", "image_url", "thumbnail_url", "original_url", "items"]

    @extend_schema_field(serializers.URLField())
    def get_image_url(self, photo):
        return self._url(photo, "")

    @extend_schema_field(serializers.URLField())
    def get_thumbnail_url(self, photo):
        return self._url(photo, "?size=thumbnail")

    @extend_schema_field(serializers.URLField())
    def get_original_url(self, photo):
        return self._url(photo, "?size=original")

    def _url(self, photo, query):
        return self.context["request"].build_absolute_uri(reverse("api-photo-image", args=[photo.uuid]) + query)


class ListingSerializer(DecidedSerializer):
    status = serializers.ChoiceField(choices=ListingStatus.choices, read_only=True)
    category = serializers.CharField(source="category.path", allow_null=True, default=None,
                                     help_text="the listing's one category, from all its photos; null when none")
    outcome = serializers.ChoiceField(choices=Outcome.choices, allow_blank=True,
                                      help_text=OUTCOME_HELP + "; empty until a photo is categorized")
    suggested_title = serializers.CharField(read_only=True, help_text="a title read on the product (its brand and "
                                                                      "product words); empty until read, or when none")
    photos = PhotoSerializer(many=True, read_only=True)

    class Meta:
        model = Listing
        fields = ["uuid", "title", "reference", "suggested_title", "created", "status", "category", "confidences",
                  "calibrated", "outcome", "accepted_depth", "photos"]


class PhotoFilesField(serializers.ListField):
    """A listing's photos, checked as the upload form checks them: a refusal is errors.photos, a
    list of {file, reason} in the form's words (catalog.photos.check_photos). Its limits are
    declared for the schema; the check says them in those words first."""

    def __init__(self, **kwargs):
        super().__init__(child=serializers.FileField(), min_length=1,
                         max_length=settings.CATALOG_MAX_PHOTOS_PER_LISTING, **kwargs)

    def run_validation(self, data=serializers.empty):
        if data is serializers.empty or data is None:
            data = []
        if not isinstance(data, list) or not all(hasattr(upload, "read") for upload in data):
            raise serializers.ValidationError([{"file": "", "reason": "Send the photos as files (multipart)."}])
        checked, problems = check_photos(data)
        if problems:
            raise serializers.ValidationError(problems)
        return checked


class ListingCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=TITLE_LIMIT)
    photos = PhotoFilesField(help_text="the product photos: JPEG, PNG, WebP or HEIC")

    def validate_title(self, title):
        return clean_title(title, TITLE_LIMIT)


class LivePrecisionSerializer(serializers.Serializer):
    top_level = serializers.CharField(help_text="a top-level category of the model's answers, or “All categories”")
    level = serializers.IntegerField(allow_null=True, help_text="the depth the model accepted; null: every depth")
    audited = serializers.IntegerField(help_text="audited items the figure rests on")
    right = serializers.IntegerField()
    precision = serializers.FloatField()
    low = serializers.FloatField(help_text="the exact (Clopper-Pearson) 95 % interval's lower end")
    high = serializers.FloatField(help_text="its upper end")
    target = serializers.FloatField()
    failing = serializers.BooleanField(help_text="the interval's upper end is below the target: the thresholds are "
                                                 "refitted")
    meets_target = serializers.BooleanField(help_text="the interval's lower end is at or above the target (neither "
                                                      "this nor failing: the audits cannot tell yet)")


class QualitySerializer(serializers.Serializer):
    target_precision = serializers.FloatField(help_text="the precision automatic acceptance promises")
    audit_rate = serializers.FloatField(help_text="the share of automatically accepted items audited")
    model = serializers.CharField(help_text=(
        "the model in use (the one that categorized the latest photo; empty before any): the audits counted are "
        "of its answers, as another model's confidences are of another scale, so switching models starts them "
        "afresh"))
    live_precision = LivePrecisionSerializer(many=True, help_text=(
        "the precision of automatic acceptance measured by blind audits of a random sample of it"))


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.CharField(source="parent.path", allow_null=True, default=None)
    children = serializers.IntegerField(source="child_count", read_only=True, help_text="how many subcategories")

    class Meta:
        model = Category
        fields = ["path", "name", "parent", "children"]


class BulkRequestSerializer(serializers.Serializer):
    manifest = serializers.FileField(help_text="CSV (header: title, photos, reference; photos separated by “;”) "
                                               "or JSON (a list of {title, photos: [...], reference}) file")
    archive = serializers.FileField(required=False, help_text="a zip of the photos the manifest names")
    photos = serializers.ListField(child=serializers.FileField(), required=False, default=list,
                                   help_text="the photos as files, instead of (or beside) the archive")


class AcceptedRowSerializer(serializers.ModelSerializer):
    row = serializers.IntegerField(source="bulk_row")
    listing = serializers.UUIDField(source="uuid")
    status = serializers.ChoiceField(choices=ListingStatus.choices, help_text="the listing's: processing while any of "
                                                                             "its photos is")
    category = serializers.CharField(source="category.path", allow_null=True, default=None,
                                     help_text="the listing's category; null until decided")

    class Meta:
        model = Listing
        fields = ["row", "reference", "listing", "status", "category", "outcome"]


class RejectedRowSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    reference = serializers.CharField(allow_blank=True)
    errors = serializers.ListField(child=serializers.CharField())


class BulkJobSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-bulk-job-detail", lookup_field="uuid")
    status = serializers.ChoiceField(choices=BulkJob.Status.choices, read_only=True,
                                     help_text="pending, then importing while its rows are made; done when every row "
                                               "is accepted or rejected")
    accepted = serializers.SerializerMethodField(help_text="the rows made into listings so far")
    rejected = RejectedRowSerializer(many=True, read_only=True, help_text="the rows refused, with every reason "
                                                                         "(once the job is done)")
    photos = serializers.SerializerMethodField(help_text="photos by status: queued, processing, done, failed")

    class Meta:
        model = BulkJob
        fields = ["uuid", "url", "status", "created", "finished", "rows", "accepted", "rejected", "photos"]

    @extend_schema_field(AcceptedRowSerializer(many=True))
    def get_accepted(self, job):
        listings = job.listings.with_status().select_related("category").order_by("bulk_row")
        return AcceptedRowSerializer(listings, many=True).data

    def get_photos(self, job) -> dict[str, int]:
        return job.photo_counts()


class ListingSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Listing
        fields = ["uuid", "title", "reference", "created"]


class SimilarListingSerializer(serializers.Serializer):
    listing = ListingSummarySerializer()
    similarity = serializers.FloatField(help_text="cosine similarity of the closest pair of items")
