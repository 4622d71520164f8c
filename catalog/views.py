from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.utils.http import content_disposition_header, urlencode
from django.views.decorators.http import require_GET, require_POST

from .account import CannotDelete, delete_account, everything_of
from .api_auth import SignupThrottle
from .errors import render_error
from .forms import AddPhotosForm, ApiTokenForm, CategoryChoiceForm, DeleteAccountForm, ListingForm, TitleForm
from .listings import (
    PHOTO_SIZES,
    OverQuota,
    Refused,
    add_photos,
    category_that_stays,
    choose_category,
    create_listing,
    remove_photo,
    room_for_photos,
    served_photo,
)
from .models import ApiToken, Category, Item, Listing, Photo, ReferenceImage, TooManyTokens, with_items_shown
from .storage import served_file
from .text import duration_in_words


def _get_listing_for_user(request, listing_uuid):
    return get_object_or_404(Listing.objects.visible_to(request.user), uuid=listing_uuid)


def signup(request):
    form = UserCreationForm(request.POST or None)
    throttle = SignupThrottle()
    if request.method == "POST" and not throttle.allow_request(request, None):
        return _too_many_signups(request, throttle.wait())
    if request.method == "POST" and form.is_valid():
        login(request, form.save(), backend="django.contrib.auth.backends.ModelBackend")
        return redirect("listing-list")
    return render(request, "registration/signup.html", {"form": form})


def _too_many_signups(request, wait_seconds):
    response = render_error(429, f"Too many sign-ups were tried from your address; try again in "
                                 f"{duration_in_words(wait_seconds)}.", request)
    response["Retry-After"] = str(round(wait_seconds))
    return response


LISTINGS_PER_PAGE = 20


def home(request):
    """A seller's listings; for a visitor, what the app does."""
    if not request.user.is_authenticated:
        return render(request, "catalog/landing.html")
    return _my_listings(request)


def _my_listings(request):
    """The seller's listings, newest first, a page at a time; `q` finds them by title or reference."""
    search = request.GET.get("q", "").replace("\x00", "").strip()  # PostgreSQL text holds no NUL
    listings = (Listing.objects.visible_to(request.user).select_related("category").prefetch_related("photos")
                .order_by("-created", "-id"))
    if search:
        listings = listings.filter(Q(title__icontains=search) | Q(reference__icontains=search))
    page = Paginator(listings, LISTINGS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "catalog/listing_list.html", {
        "page": page, "search": search, "query": urlencode({"q": search}) if search else "",
    })


@login_required
def listing_create(request):
    form = ListingForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            listing = create_listing(request.user, form.cleaned_data["title"], form.cleaned_data["photos"])
            return redirect("listing-detail", listing_uuid=listing.uuid)
        except OverQuota as refusal:
            form.add_error("photos", str(refusal))
    return render(request, "catalog/listing_form.html", {
        "form": form,
        "max_photos": settings.CATALOG_MAX_PHOTOS_PER_LISTING,
        "max_megabytes": settings.CATALOG_MAX_PHOTO_BYTES // (1024 * 1024),
    })


@login_required
def listing_detail(request, listing_uuid):
    return _detail(request, _get_listing_for_user(request, listing_uuid))


def _detail(request, listing, forms=None, status=200):
    """The listing page, with the seller's forms (a form that was refused keeps its errors)."""
    limit, held = settings.CATALOG_MAX_PHOTOS_PER_LISTING, listing.photos.count()
    return render(request, "catalog/listing_detail.html", {
        "listing": listing, "photos": _photos(listing), "categories": Category.objects.values_list("path", flat=True),
        "max_photos": limit, "max_bytes": settings.CATALOG_MAX_PHOTO_BYTES, "photo_room": max(0, limit - held),
        "too_many_photos": room_for_photos(listing, limit + 1), **(forms or {}),
    }, status=status)


@login_required
@require_POST
def listing_remove_photo(request, listing_uuid, photo_uuid):
    """One photo out of the listing: one that failed, or that shows something else."""
    listing = _get_listing_for_user(request, listing_uuid)
    try:
        photo, stays = remove_photo(listing, photo_uuid)
    except Photo.DoesNotExist:
        raise Http404 from None
    except Refused as refusal:
        messages.error(request, str(refusal))
    else:
        stays = stays or "the category is decided again from the others"
        messages.success(request, f"Removed the photo {photo.original_name}; {stays}.")
    return redirect("listing-detail", listing_uuid=listing.uuid)


@login_required
@require_POST
def listing_delete(request, listing_uuid):
    listing = _get_listing_for_user(request, listing_uuid)
    listing.delete()
    messages.success(request, f"Deleted “{listing.title}” and its photos.")
    return redirect("listing-list")


@login_required
@require_POST
def listing_add_photos(request, listing_uuid):
    """More photos for the listing: categorized like the first, and its category decided again."""
    listing = _get_listing_for_user(request, listing_uuid)
    form = AddPhotosForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            add_photos(listing, form.cleaned_data["photos"])
            count = len(form.cleaned_data["photos"])
            stays = category_that_stays(listing)
            categorized = "it is categorized" if count == 1 else "they are categorized"
            messages.success(request, f"Added {count} photo{pluralize(count)}; "
                                      + (f"{categorized}, and {stays}." if stays else "finding the category…"))
            return redirect("listing-detail", listing_uuid=listing.uuid)
        except (OverQuota, Refused) as refusal:
            form.add_error("photos", str(refusal))
    return _detail(request, listing, {"photos_form": form}, status=400)


@login_required
@require_POST
def listing_category(request, listing_uuid):
    """The seller accepts the category shown, or chooses another from the tree."""
    listing = _get_listing_for_user(request, listing_uuid)
    form = CategoryChoiceForm(request.POST)
    if not form.is_valid():
        return _detail(request, listing, {"category_form": form}, status=400)
    try:
        choose_category(listing, form.cleaned_data["category"], shown=request.POST.get("shown"))
    except Refused as refusal:  # the page, reloaded, shows the category as it is now
        messages.error(request, str(refusal))
    else:
        messages.success(request, f"The category is {form.cleaned_data['category']} now.")
    return redirect("listing-detail", listing_uuid=listing.uuid)


@login_required
@require_POST
def listing_title(request, listing_uuid):
    """A new title for the listing: the one read on the product, as the seller accepted or edited it."""
    listing = _get_listing_for_user(request, listing_uuid)
    form = TitleForm(request.POST)
    if not form.is_valid():
        return _detail(request, listing, {"title_form": form}, status=400)
    listing.title, listing.title_chosen = form.cleaned_data["title"], True
    listing.save(update_fields=["title", "title_chosen"])
    messages.success(request, "Title saved.")
    return redirect("listing-detail", listing_uuid=listing.uuid)


@login_required
@require_GET
def listing_photos(request, listing_uuid):
    """The photo cards alone: the listing page polls this while photos are being categorized."""
    listing = _get_listing_for_user(request, listing_uuid)
    return render(request, "catalog/_photos.html", {"listing": listing, "photos": _photos(listing)})


def _photos(listing):
    return with_items_shown(listing.photos.all())


@login_required
@require_GET
def photo_image(request, photo_uuid):
    """The photo as pages show it (?size=display, the default, or thumbnail: JPEG), or as uploaded
    (?size=original)."""
    photo = get_object_or_404(Photo.objects.visible_to(request.user), uuid=photo_uuid)
    size = request.GET.get("size", "display")
    if size not in PHOTO_SIZES:
        return render_error(400, f"There is no size “{size}”; use one of {', '.join(PHOTO_SIZES)}.", request)
    return served_photo(photo, size)


@login_required
@require_GET
def item_heatmap(request, item_uuid):
    item = get_object_or_404(Item.objects.visible_to(request.user), uuid=item_uuid)
    if not item.heatmap:
        raise Http404("This item has no heatmap yet.")
    return served_file(item.heatmap, "image/png")


@login_required
@require_GET
def reference_image(request, reference_uuid):
    """Catalogue references are for everyone; those made from sellers' items in review, for staff."""
    reference = get_object_or_404(ReferenceImage.objects.visible_to(request.user), uuid=reference_uuid)
    return served_file(reference.image)


NEW_KEY_SESSION_KEY = "new_api_key"


@login_required
def api_tokens(request):
    """The seller's API keys: create one (its key is shown once, on the page the creation redirects
    to, so that reloading it creates nothing) or revoke one."""
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            _, request.session[NEW_KEY_SESSION_KEY] = ApiToken.objects.issue(request.user, form.cleaned_data["name"])
            return redirect("api-tokens")
        except TooManyTokens as refusal:
            form.add_error(None, str(refusal))
    return render(request, "catalog/api_tokens.html", {
        "form": form, "tokens": ApiToken.objects.visible_to(request.user),
        "new_key": request.session.pop(NEW_KEY_SESSION_KEY, None),
    })


@login_required
@require_POST
def api_token_revoke(request, token_uuid):
    token = get_object_or_404(ApiToken.objects.visible_to(request.user), uuid=token_uuid)
    token.delete()
    messages.success(request, f"Revoked “{token.name}”: programs using it can no longer reach the API.")
    return redirect("api-tokens")


@login_required
def account(request):
    """The seller's account: everything it holds, downloaded; the account deleted."""
    form = DeleteAccountForm(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            delete_account(request.user)
        except CannotDelete as refusal:
            form.add_error(None, str(refusal))
        else:
            logout(request)
            messages.success(request, "Your account is deleted, and with it your listings, their photos and "
                                      "your API tokens.")
            return redirect("login")
    return render(request, "catalog/account.html", {"form": form, "listings": request.user.listings.count()},
                  status=400 if form.errors else 200)


@login_required
@require_GET
def account_export(request):
    answer = JsonResponse(everything_of(request), json_dumps_params={"indent": 2, "ensure_ascii": False})
    answer["Content-Disposition"] = content_disposition_header(True, f"catalog-{request.user.username}.json")
    return answer
