"""Staff review: a queue of items, those that need a person first and the riskiest first, where each
decision teaches the index."""

import uuid
from collections import Counter
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import audits, quality
from .filters import ReviewFilter
from .forms import BulkReviewForm, CategoryChoiceForm, NewCategoryForm
from .models import Category, Item, Outcome, Photo, ReviewDecision, ThresholdChange, with_cards_read
from .review import CategoryExists, ChangedSinceSeen, accept, decide, new_category, sent_again, set_aside

ITEMS_PER_PAGE = 20
# An audit's label must be staff's own choice, made without the model's answer (catalog.audits): never
# an Accept of the hidden answer, nor part of a selection decided at once.
AUDIT_ON_ITS_CARD = "choose each audit's category on its own card; the model's answer stays hidden until then."
THRESHOLD_CHANGES_SHOWN = 20


def staff_required(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied("Only catalogue staff can review items.")
        return view(request, *args, **kwargs)
    return wrapper


def _get_item(request, item_uuid):
    return get_object_or_404(_reviewable_items(request.user), uuid=item_uuid)


# Each card posts the item's state as it showed it (Item.seen_as; an older page posts none, and is
# taken as it is): an action on an item decided meanwhile, or drawn for an audit, is refused.
CHANGED_SINCE_SEEN = "changed since the page was loaded (it was decided meanwhile, or drawn for an audit)"
NOTHING_DONE = f"Nothing done: this item {CHANGED_SINCE_SEEN}. Look at it again below."


@staff_required
def review_queue(request):
    reviewable = _reviewable_items(request.user)
    filters = ReviewFilter(_filter_data(request), queryset=reviewable)
    items = filters.qs if filters.is_valid() else reviewable.none()
    page = Paginator(items, ITEMS_PER_PAGE).get_page(request.GET.get("page"))
    shown = with_cards_read(list(page))
    return render(request, "catalog/review_queue.html", {
        "filters": filters, "page": page, "categories": Category.objects.values_list("path", flat=True),
        # Each card with the one after it: an action on it comes back to that one (_back_to_queue).
        "cards": list(zip(shown, [*shown[1:], None])),
        "query": _query_without_page(request),
        "audits_left_out": _audits_left_out(request, filters, reviewable),
        # They wait for nobody (the Quality page does not count them as waiting): said apart.
        "accepted_whole": items.filter(outcome=Outcome.ACCEPTED, audit=False, review=Item.Review.PENDING).count(),
    })


@staff_required
def quality_page(request):
    judged = quality.judged_items()
    model = audits.model_in_use()
    return render(request, "catalog/quality.html", {
        "summary": quality.summary(judged),
        "by_category": quality.accuracy_by_category(judged),
        "by_week": quality.accuracy_by_week(judged),
        "auto_accept": quality.auto_accept(judged),
        "queue": quality.queue(),
        "most_corrected": quality.most_corrected(judged),
        "live_precision": audits.live_precision(model=model),
        "model": model,
        "audit_rate": settings.CATALOG_AUDIT_RATE,
        "weeks_shown": quality.WEEKS_SHOWN,
        "threshold_changes": ThresholdChange.objects.filter(model=model)[:THRESHOLD_CHANGES_SHOWN],
    })


def _audits_left_out(request, filters, reviewable):
    """How many waiting audits the other filters (seller, dates, …) would show, that those by what
    the model said leave out."""
    if not filters.leaves_audits_out:
        return 0
    data = _filter_data(request).copy()
    for name in ReviewFilter.READ_THE_MODELS_ANSWER:
        data.pop(name, None)
    others = ReviewFilter(data, queryset=reviewable)
    return others.qs.filter(audit=True, review=Item.Review.PENDING).count() if others.is_valid() else 0


def _filter_data(request):
    """The filters asked for; with none, the queue opens on the items nobody has reviewed yet."""
    if any(name in request.GET for name in ReviewFilter.base_filters):
        return request.GET
    return {"review": Item.Review.PENDING}


def _reviewable_items(user):
    """Audits waiting for staff first (the live precision rests on them, catalog.audits), then the
    items the model could not accept, then those accepted only at a parent, then the accepted
    ones; within each, the likeliest to be wrong first."""
    order = Case(When(audit=True, review=Item.Review.PENDING, then=Value(-1)),
                 *[When(outcome=outcome, then=Value(rank)) for rank, outcome in enumerate(Outcome.review_order())],
                 output_field=IntegerField())
    return (Item.objects.visible_to(user).filter(photo__status=Photo.Status.DONE)
            .select_related("photo__listing__seller", "photo__listing__category", "category", "predicted_category")
            .prefetch_related("decisions__reviewer", "decisions__old_category", "decisions__new_category")
            .order_by(order, "-risk", "id"))


def _query_without_page(request):
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@staff_required
@require_POST
def review_accept(request, item_uuid):
    item = _get_item(request, item_uuid)
    if item.is_blind_audit:
        return _refused(request, item, "This item is an audit: choose its category yourself with Choose; the "
                                       "model's answer stays hidden until then.")
    if item.category is None:
        return _refused(request, item, "This item has no category to accept; choose one with Correct.")
    try:
        _, category = accept(item, request.user, seen=request.POST.get("seen"))
    except ChangedSinceSeen:
        return _refused(request, item, NOTHING_DONE)
    messages.success(request, f"Accepted: {category}.")
    return _back_to_queue(request)


@staff_required
@require_POST
def review_correct(request, item_uuid):
    item = _get_item(request, item_uuid)
    form = CategoryChoiceForm(request.POST)
    if not form.is_valid():
        return _refused(request, item, " ".join(form.errors["category"]))
    category, blind = form.cleaned_data["category"], item.is_blind_audit
    try:
        action = decide(item, category, request.user, seen=request.POST.get("seen"))
    except ChangedSinceSeen:
        return _refused(request, item, NOTHING_DONE)
    messages.success(request, _chosen_message(item, category, action, blind))
    return _back_to_queue(request)


def _chosen_message(item, category, action, blind):
    """What Correct (Choose on an audit) did: a category equal to the item's is an accept."""
    if blind:
        return (f"Chosen: {category}; it is a reference of it from now on. The model had accepted "
                f"{item.model_accepted or 'nothing'}.")
    if action == ReviewDecision.Action.ACCEPTED:
        return f"Accepted: {category}, the category it had; it is a reference of it from now on."
    return f"Corrected to {category}; it is a reference of it from now on."


@staff_required
@require_POST
def review_new_category(request, item_uuid):
    item = _get_item(request, item_uuid)
    form = NewCategoryForm(request.POST)
    if not form.is_valid():
        made = Category.objects.filter(path=form.typed_path()).first()
        if made and sent_again(item, request.user, made, ReviewDecision.Action.NEW_CATEGORY):
            # The second of a double click: the first made it, with this item in it.
            messages.success(request, _made_message(made))
            return _back_to_queue(request)
        return _refused(request, item, " ".join(form.errors["path"]))
    parent, name = form.cleaned_data["path"]
    try:
        category = new_category(item, parent, name, request.user, seen=request.POST.get("seen"))
    except ChangedSinceSeen:
        return _refused(request, item, NOTHING_DONE)
    except CategoryExists as exists:
        return _refused(request, item, str(exists))
    messages.success(request, _made_message(category))
    return _back_to_queue(request)


def _made_message(category):
    return f"Made the category {category} with this item as its first reference."


@staff_required
@require_POST
def review_set_aside(request, item_uuid, action):
    item = _get_item(request, item_uuid)
    try:
        set_aside(item, action, request.user, seen=request.POST.get("seen"))
    except ChangedSinceSeen:
        return _refused(request, item, NOTHING_DONE)
    messages.success(request, f"Marked “{ReviewDecision.Action(action).label.lower()}”: "
                              "it has no category and is never a reference.")
    return _back_to_queue(request)


@staff_required
@require_POST
def review_bulk(request):
    form = BulkReviewForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return _back_to_queue(request)
    selected = list(_reviewable_items(request.user).filter(uuid__in=form.cleaned_data["items"]))
    seen = dict(value.partition("=")[::2] for value in request.POST.getlist("seen"))
    items = [item for item in selected if not item.is_blind_audit]
    actions, changed, skipped = _decide_all(items, form.cleaned_data.get("category"), request.user, seen)
    if actions or not selected:
        messages.success(request, _bulk_message(actions, form.done_verb))
    if changed:
        messages.error(request, f"{changed} item{'s'[:changed != 1]} left unchanged: "
                                f"{CHANGED_SINCE_SEEN}. Look at {'them' if changed != 1 else 'it'} again.")
    if gone := len(form.cleaned_data["items"]) - len(selected):
        messages.error(request, f"{gone} selected item{'s'[:gone != 1]} no longer exist{'s'[:gone == 1]} "
                                "(the seller removed the photo or the listing).")
    if audits_left := len(selected) - len(items):
        messages.error(request, f"{audits_left} audit{'s'[:audits_left != 1]} left unchanged: {AUDIT_ON_ITS_CARD}")
    if skipped:
        messages.error(request, f"{skipped} uncategorized item{'s'[:skipped != 1]} left unchanged: "
                                f"choose a category for {'them' if skipped != 1 else 'it'}.")
    return _back_to_queue(request)


def _decide_all(items, category, reviewer, seen):
    """Each item to `category`, or to its own category when None, unless it changed since it was
    `seen` ({uuid: Item.seen_as}); (Counter of the ReviewDecision actions recorded, how many had
    changed, how many were skipped as uncategorized)."""
    actions, changed = Counter(), 0
    for item in items:
        if category or item.category:
            try:
                if category:
                    actions[decide(item, category, reviewer, seen=seen.get(str(item.uuid)))] += 1
                else:
                    actions[accept(item, reviewer, seen=seen.get(str(item.uuid)))[0]] += 1
            except ChangedSinceSeen:
                changed += 1
    return actions, changed, len(items) - actions.total() - changed


def _bulk_message(actions, verb):
    """"3 items corrected; 1 accepted, the category it had." (a correction to the item's own
    category is an accept); `verb` names the bulk action when nothing was decided."""
    corrected, accepted = actions[ReviewDecision.Action.CORRECTED], actions[ReviewDecision.Action.ACCEPTED]
    if not corrected:
        return f"{accepted} item{'s'[:accepted != 1]} {verb if not actions else 'accepted'}."
    message = f"{corrected} item{'s'[:corrected != 1]} corrected"
    return message + (f"; {accepted} accepted, the category {'it' if accepted == 1 else 'they'} had." if accepted
                      else ".")


def _refused(request, item, text):
    """A card's action refused: the message names the item (staff may have moved on to other cards
    meanwhile) and links back to its card (base.html reads the extra tag)."""
    messages.error(request, f"{text} Item: “{item.photo.listing.title}” · {item.photo.original_name}.",
                   extra_tags=f"item-{item.uuid}")
    return _back_to_queue(request, refused=True)


def _back_to_queue(request, refused=False):
    target = request.POST.get("next", "")
    # A path of this site only: redirect() would read anything else as a view's name.
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("review-queue")
    # Refused: at the message saying why (base.html's #messages), not at the next card, which would
    # pass over it. Done: where staff were, at the card after the one decided (the page's top, if it
    # left the page).
    if refused:
        return redirect(target + "#messages")
    return redirect(target + (f"#item-{after}" if (after := _uuid(request.POST.get("after"))) else ""))


def _uuid(text):
    try:
        return uuid.UUID(text or "")
    except ValueError:
        return None
