"""The REST API for sellers' systems: listings, their photos' results, and the category tree."""

from django.conf import settings
from django.db.models import Count, prefetch_related_objects
from django.http import Http404
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from . import audits, bulk
from .errors import invalid_fields, problem_response
from .filters import CategoryFilter, ListingFilter
from .idempotency import HEADER, respond_once
from .listings import PHOTO_SIZES, OverQuota, create_listing, served_photo
from .models import BulkJob, Category, Item, Listing, ListingStatus, Photo
from .serializers import (
    BulkJobSerializer,
    BulkRequestSerializer,
    CategorySerializer,
    ListingCreateSerializer,
    ListingSerializer,
    QualitySerializer,
    SimilarListingSerializer,
)
from .similar import similar_listings
from .storage import SIGNED_URL_NOTE, served_file

IDEMPOTENCY_KEY = OpenApiParameter(
    HEADER, str, OpenApiParameter.HEADER, required=False,
    description="Any unique string (a UUID): a retry with the same key creates nothing twice and gets "
                "the first response back.")


class ListingViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """The seller's own listings; another seller's are not found (404)."""

    serializer_class = ListingSerializer
    lookup_field = "uuid"
    lookup_value_converter = "uuid"
    filter_backends = [DjangoFilterBackend]
    filterset_class = ListingFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema's generator, with no seller
            return Listing.objects.none()
        return Listing.objects.visible_to(self.request.user).as_answered().order_by("-created", "-id")

    def filter_queryset(self, queryset):
        # The filters are the list's: one listing is found by its uuid alone, whatever the query.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def get_parsers(self):
        if self.request is not None and self.request.method == "POST":
            return [MultiPartParser(), FormParser()]
        return super().get_parsers()


    @extend_schema(request=ListingCreateSerializer, responses={201: ListingSerializer},
                   parameters=[IDEMPOTENCY_KEY])
    def create(self, request):
        return respond_once(request, lambda: self._create(request))

    def _create(self, request):
        incoming = ListingCreateSerializer(data=request.data)
        if not incoming.is_valid():
            return invalid_fields(incoming.errors)
        try:
            listing = create_listing(request.user, incoming.validated_data["title"], incoming.validated_data["photos"])
        except OverQuota as refusal:
            return problem_response(status.HTTP_429_TOO_MANY_REQUESTS, str(refusal),
                                    headers={"Retry-After": str(refusal.retry_after)})
        return Response(self.get_serializer(_just_created(listing)).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: SimilarListingSerializer(many=True)})
    @action(detail=True, pagination_class=None, filter_backends=[])
    def similar(self, request, uuid):
        """The seller's other listings most like this one, by their items' look."""
        ranked = similar_listings(self.get_object())
        listings = Listing.objects.visible_to(request.user).in_bulk([pk for pk, _ in ranked])
        return Response(SimilarListingSerializer(
            [{"listing": listings[pk], "similarity": round(similarity, 4)} for pk, similarity in ranked
             if pk in listings],  # one deleted since it was ranked is left out
            many=True).data)


class BulkJobViewSet(mixins.CreateModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Many listings in one request: a manifest of rows plus their photos. The request is checked
    and answered at once (202) with a pending job; a worker then creates a listing for each
    acceptable row, never half a row, and lists the other rows with their reasons. Poll the job
    until its status is done, then for its photos' progress."""

    serializer_class = BulkJobSerializer
    lookup_field = "uuid"
    lookup_value_converter = "uuid"
    parser_classes = [MultiPartParser]

    def get_queryset(self):
        return BulkJob.objects.visible_to(self.request.user)

    @extend_schema(request=BulkRequestSerializer, responses={202: BulkJobSerializer}, parameters=[IDEMPOTENCY_KEY])
    def create(self, request):
        too_large = _refuse_oversized(request)
        return too_large or respond_once(request, lambda: self._start(request))

    def _start(self, request):
        incoming = BulkRequestSerializer(data=request.data)
        if not incoming.is_valid():
            return invalid_fields(incoming.errors)
        archive = incoming.validated_data.get("archive")
        try:
            rows = bulk.read_manifest(incoming.validated_data["manifest"])
            bulk.PhotoSource(archive)  # readable, and not too many files
        except (bulk.BadManifest, bulk.BadArchive) as error:
            field = "manifest" if isinstance(error, bulk.BadManifest) else "archive"
            return invalid_fields({field: [str(error)]})
        job = self.get_serializer(bulk.start_job(request.user, rows, archive, incoming.validated_data["photos"])).data
        return Response(job, status=status.HTTP_202_ACCEPTED, headers={"Location": job["url"]})


def _just_created(listing):
    """The new listing as get_queryset gives it, without its status query: every photo of it is
    queued, so it is processing."""
    listing.status = ListingStatus.PROCESSING
    prefetch_related_objects([listing], "photos__items__category")
    return listing


def _refuse_oversized(request):
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    limit = settings.CATALOG_MAX_BULK_BYTES
    if length > limit:
        return problem_response(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                                f"The request is {length / 1024 / 1024:.0f} MB; a bulk request takes at most "
                                f"{limit / 1024 / 1024:.0f} MB. Split it into several.")
    return None


class CategoryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Browse the category tree (children of a path) or search it by name."""

    serializer_class = CategorySerializer

    filter_backends = [DjangoFilterBackend]
    filterset_class = CategoryFilter

    def get_queryset(self):
        return Category.objects.select_related("parent").annotate(child_count=Count("children")).order_by("path")


PHOTO_SIZE = OpenApiParameter(
    "size", str, enum=list(PHOTO_SIZES), default="display",
    description="display: a JPEG of at most 1600 px a side; thumbnail: at most 360 px; original: the file as uploaded")


@extend_schema(parameters=[PHOTO_SIZE], description=SIGNED_URL_NOTE,
               responses={(200, "image/*"): OpenApiResponse(OpenApiTypes.BINARY),
                          302: OpenApiResponse(description=SIGNED_URL_NOTE)})
@api_view(["GET"])
def photo_image(request, photo_uuid):
    photo = get_object_or_404(Photo.objects.visible_to(request.user), uuid=photo_uuid)
    size = request.query_params.get("size", "display")
    if size not in PHOTO_SIZES:
        return problem_response(status.HTTP_400_BAD_REQUEST,
                                f"There is no size “{size}”; use one of {', '.join(PHOTO_SIZES)}.")
    return served_photo(photo, size)


@extend_schema(description=SIGNED_URL_NOTE,
               responses={(200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY),
                          302: OpenApiResponse(description=SIGNED_URL_NOTE)})
@api_view(["GET"])
def item_heatmap(request, item_uuid):
    item = get_object_or_404(Item.objects.visible_to(request.user), uuid=item_uuid)
    if not item.heatmap:
        raise Http404("This item has no heatmap yet.")
    return served_file(item.heatmap, "image/png")


@extend_schema(responses={200: QualitySerializer,
                          403: OpenApiResponse(description="A seller's token: the figures are catalogue staff's.")})
@api_view(["GET"])
def quality(request):
    """Catalogue staff only: the live precision of automatic acceptance, as the Quality page shows it."""
    if not request.user.is_staff:
        return problem_response(status.HTTP_403_FORBIDDEN, "Only catalogue staff can read the quality figures.")
    model = audits.model_in_use()
    return Response(QualitySerializer({"target_precision": settings.CATALOG_AUTO_ACCEPT_PRECISION,
                                       "audit_rate": settings.CATALOG_AUDIT_RATE, "model": model,
                                       "live_precision": audits.live_precision(model=model)}).data)
