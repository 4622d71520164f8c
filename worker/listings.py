"""A listing's one decision: one category path, from the evidence of all its photos pooled.

Each categorized photo contributes its main item (Listing.main_items). Their votes are pooled and
calibrated (vision.calibration.decide_listing), so photos that agree raise the confidence and a
stray photo of something else does not outvote the rest. What staff decided
about one of those items is the listing's decision.
"""

from django.db import transaction
from django.utils import timezone

from catalog.models import STAFF_DECIDED, STAFF_SET_ASIDE, Category, Item, Listing, Outcome, Photo
from catalog.storage import STORAGE_ERRORS
from vision.catalogue import format_path, parse_path
from vision.vote import Neighbour, vote

from .models_cache import IndexNotReady, ModelUnavailable, models


def update_listing_decision(listing_id):
    """Decide the listing again from its items as they are now (idempotent)."""
    categorizer = _loaded_categorizer()
    with transaction.atomic():
        listing = Listing.objects.select_for_update().filter(pk=listing_id).first()
        if listing is None:
            return
        items = listing.main_items()
        if listing.category_chosen and all(item.review == Item.Review.PENDING for item in items):
            # The seller's own choice stands until staff review the listing's items; it is decided
            # so again (else a staff decision about another item would leave "Updating…" for good).
            Listing.objects.filter(pk=listing_id).update(decided=timezone.now())
            return
        fields = _decision(items, categorizer) or _all_set_aside(listing)
        # Staff decided about its items: their review comes first, and the seller's choice ends (kept,
        # it would freeze a decision a removed photo took with it, and say "the category you chose stays").
        Listing.objects.filter(pk=listing_id).update(**fields, category_chosen=False, decided=timezone.now())


def _loaded_categorizer():
    """The categorizer, loaded before the listing is locked (seconds when a new snapshot is fetched
    or many changes are applied), so that the seller's actions on the listing do not wait for it;
    None when it cannot be loaded: that is the decision's own to meet (one staff made needs none)."""
    try:
        return models.categorizer()
    except (IndexNotReady, ModelUnavailable, *STORAGE_ERRORS):
        return None


def _all_set_aside(listing):
    """With no main item: "not a product" when staff set every item aside so, else undecided."""
    items = Item.objects.filter(photo__listing=listing, photo__status=Photo.Status.DONE)
    return _without_model(None, Outcome.NOT_A_PRODUCT if items.exists() else "")


def _decision(items, categorizer=None):
    if not items:
        return None
    decided = [item for item in items if item.review in STAFF_DECIDED]
    if decided:
        latest = max(decided, key=lambda item: item.decisions.values_list("created", flat=True).first())
        return _without_model(latest.category, Outcome.REVIEWED)
    left = [item for item in items if item.review not in STAFF_SET_ASIDE]
    if not left:
        return _without_model(None, Outcome.NOT_IN_CATALOGUE)
    if categorizer is None:  # not loaded before the lock: loading it again raises what stopped it
        categorizer = models.categorizer()
    novelty = [item.top_similarity for item in left]  # none on items categorized before it was kept
    decision = categorizer.decide_listing([_assignment(item, categorizer.config) for item in left],
                                          None if None in novelty else novelty)
    return decision_fields(decision)


def _without_model(category, outcome):
    """A decision that staff made (or that no photo could make): no confidences."""
    return {"category": category, "confidences": [], "calibrated": False, "decided_lineage": [], "outcome": outcome,
            "accepted_depth": 0}


def _assignment(item, config):
    """The item's vote again, from the neighbours stored with it."""
    return vote([Neighbour(0, parse_path(n["path"]), n["similarity"])
                 for n in item.current_neighbours()], config)


def decision_fields(decision):
    """The fields a vision.calibration.Decision sets on an item or a listing: its category, and the
    confidence of each level with the level's category (so that they stay together when the
    category is moved in the tree later)."""
    category = category_at(decision.path)
    return {"category": category, "confidences": rounded(decision.confidences), "calibrated": decision.calibrated,
            "decided_lineage": category.lineage_ids() if category else [],
            "outcome": decision.outcome, "accepted_depth": decision.accepted_depth}


def rounded(confidences):
    return [round(c, 4) for c in confidences]


def category_at(path):
    return Category.objects.filter(path=format_path(path)).first() if path else None
