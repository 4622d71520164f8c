from functools import partial

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from worker.tasks import enqueue_photo

from .forms import ListingForm
from .models import Item, Listing, Photo, ReferenceImage


def _get_listing_for_user(request, listing_uuid):
    return get_object_or_404(Listing, uuid=listing_uuid, seller=request.user)


def signup(request):
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.save())
        return redirect("listing-list")
    return render(request, "registration/signup.html", {"form": form})


@login_required
def listing_list(request):
    listings = request.user.listings.prefetch_related("photos__items__category")
    return render(request, "catalog/listing_list.html", {"listings": listings})


@login_required
def listing_create(request):
    form = ListingForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        listing = _create_listing(request.user, form.cleaned_data)
        return redirect("listing-detail", listing_uuid=listing.uuid)
    return render(request, "catalog/listing_form.html", {
        "form": form,
        "max_photos": settings.CATALOG_MAX_PHOTOS_PER_LISTING,
        "max_megabytes": settings.CATALOG_MAX_PHOTO_BYTES // (1024 * 1024),
    })


def _create_listing(seller, data):
    with transaction.atomic():
        listing = Listing.objects.create(seller=seller, title=data["title"])
        for checked in data["photos"]:
            photo = Photo(listing=listing, original_name=checked.upload.name[:255],
                          width=checked.width, height=checked.height)
            photo.image.save(f"photo.{checked.extension}", checked.upload, save=True)
            transaction.on_commit(partial(enqueue_photo, photo.id))
    return listing


@login_required
def listing_detail(request, listing_uuid):
    listing = _get_listing_for_user(request, listing_uuid)
    return render(request, "catalog/listing_detail.html", {"listing": listing, "photos": _photos(listing)})


@login_required
@require_GET
def listing_photos(request, listing_uuid):
    """The photo cards alone: the listing page polls this while photos are being categorized."""
    listing = _get_listing_for_user(request, listing_uuid)
    return render(request, "catalog/_photos.html", {"listing": listing, "photos": _photos(listing)})


def _photos(listing):
    return listing.photos.prefetch_related("items__category")


def _visible_to(user, queryset, seller_field):
    """Staff see every seller's objects; a seller sees only their own."""
    return queryset if user.is_staff else queryset.filter(**{seller_field: user})


@login_required
@require_GET
def photo_image(request, photo_uuid):
    photo = get_object_or_404(_visible_to(request.user, Photo.objects, "listing__seller"), uuid=photo_uuid)
    return FileResponse(photo.image.open("rb"))


@login_required
@require_GET
def item_heatmap(request, item_uuid):
    item = get_object_or_404(_visible_to(request.user, Item.objects, "photo__listing__seller"), uuid=item_uuid)
    if not item.heatmap:
        raise Http404("This item has no heatmap yet.")
    return FileResponse(item.heatmap.open("rb"), content_type="image/png")


@login_required
@require_GET
def reference_image(request, reference_uuid):
    """Catalogue references are for everyone; those made from sellers' items in review, for staff."""
    references = ReferenceImage.objects.all()
    if not request.user.is_staff:
        references = references.filter(source=ReferenceImage.Source.IMPORT)
    reference = get_object_or_404(references, uuid=reference_uuid)
    return FileResponse(reference.image.open("rb"))
