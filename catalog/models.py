import contextvars
import hashlib
import math
import secrets
import uuid
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.functional import cached_property

from vision import outcomes
from vision.catalogue import PATH_SEPARATOR, parse_path, within
from vision.text import is_readable

TITLE_LIMIT = 200
REFERENCE_LIMIT = 200


class Outcome(models.TextChoices):
    """What became of an answer (vision.outcomes), for an item and for a listing."""

    ACCEPTED = outcomes.ACCEPTED, "Accepted automatically"
    ACCEPTED_AT_PARENT = outcomes.ACCEPTED_AT_PARENT, "Accepted at a parent category"
    NEEDS_REVIEW = outcomes.NEEDS_REVIEW, "Needs review"
    NOT_IN_CATALOGUE = outcomes.NOT_IN_CATALOGUE, "Not in the catalogue"
    # Set by staff only.
    REVIEWED = "reviewed", "Chosen by staff"
    NOT_A_PRODUCT = "not_a_product", "Not a product"
    # A listing's, set by its seller (staff's decision still comes first).
    CHOSEN_BY_SELLER = "chosen_by_seller", "Chosen by the seller"

    @classmethod
    def review_order(cls):
        """Queue order: what needs a person first."""
        return [cls.NEEDS_REVIEW, cls.NOT_IN_CATALOGUE, cls.ACCEPTED_AT_PARENT, cls.ACCEPTED, cls.REVIEWED,
                cls.NOT_A_PRODUCT]


# How the pages show a path's levels apart (templates/catalog/_levels.html): no name holds it either,
# so a path typed as the pages show it reads the same.
DISPLAYED_SEPARATOR = "›"


def _validate_category_name(name):
    if not name.strip() or PATH_SEPARATOR.strip() in name or DISPLAYED_SEPARATOR in name:
        raise ValidationError(f"A category name cannot be empty or contain '{PATH_SEPARATOR.strip()}' or "
                              f"'{DISPLAYED_SEPARATOR}'.")


class CategoryQuerySet(models.QuerySet):
    def get_or_create_path(self, names):
        """The category at the end of `names`, creating any missing ancestor on the way."""
        parent = None
        for name in names:
            parent, _ = self.get_or_create(parent=parent, name=name)
        return parent


class Category(models.Model):
    name = models.CharField(max_length=200, validators=[_validate_category_name])
    parent = models.ForeignKey("self", null=True, blank=True, related_name="children", on_delete=models.PROTECT)
    # The full path, denormalised so a subtree is one prefix query.
    path = models.CharField(max_length=2000, unique=True, editable=False)

    objects = CategoryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="unique_name_per_parent"),
            models.UniqueConstraint(fields=["name"], condition=models.Q(parent=None), name="unique_top_level_name"),
        ]

    def __str__(self):
        return self.path

    @property
    def names(self):
        return parse_path(self.path)

    def clean(self):
        if self.pk and self.parent and self.subtree().filter(pk=self.parent.pk).exists():
            raise ValidationError({"parent": "A category cannot be moved under itself or one of its subcategories."})
        if self.parent is None and Category.objects.filter(parent=None, name=self.name).exclude(pk=self.pk).exists():
            # Said in words: the constraint's own message named it ("unique_top_level_name" is violated).
            raise ValidationError({"name": f"There is a top-level category “{self.name}” already."})

    def lineage_ids(self):
        """The ids of the categories along this one's path, the top level first (the tree as
        category_tree reads it)."""
        prefixes = [PATH_SEPARATOR.join(self.names[:depth]) for depth in range(1, len(self.names) + 1)]
        ids = category_tree().ids if _request_tree.get() is not None else {}
        if any(prefix not in ids for prefix in prefixes):
            # Outside a request (a worker deciding an item), or a category made or renamed by another
            # process since this request read the tree: these prefixes, read now.
            ids = dict(Category.objects.filter(path__in=prefixes).values_list("path", "pk"))
        return [ids[prefix] for prefix in prefixes]

    def subtree(self):
        """This category and everything under it."""
        return Category.objects.filter(models.Q(pk=self.pk) | models.Q(path__startswith=self.path + PATH_SEPARATOR))

    def save(self, *args, **kwargs):
        """Keep the stored paths right: a rename or a move rewrites the paths of the whole subtree."""
        old_path = Category.objects.filter(pk=self.pk).values_list("path", flat=True).first() if self.pk else None
        self.path = PATH_SEPARATOR.join([*(self.parent.names if self.parent else ()), self.name])
        super().save(*args, **kwargs)
        if old_path and old_path != self.path:
            for descendant in Category.objects.filter(path__startswith=old_path + PATH_SEPARATOR):
                descendant.path = self.path + descendant.path[len(old_path):]
                descendant.save(update_fields=["path"])
            ReferenceChange.record(self.references.values_list("pk", flat=True))
            if self.parent is None and PATH_SEPARATOR not in old_path:
                # Audits' thresholds are kept by top-level name: a renamed one keeps its own.
                ThresholdChange.objects.filter(top_level=old_path).update(top_level=self.path)


LINEAGE_HELP = "the ids of the categories along the path when it was decided, one for each confidence"


class SellersQuerySet(models.QuerySet):
    """Rows that belong to a seller, reached from a row by `seller_path`. `visible_to(user)` is the
    one access rule of pages, API and review alike: a seller sees their own rows only, so another
    seller's is a 404 (never a 403, which would say it exists); staff see everyone's rows of the
    models they review (`staff_see_all`), and only their own of the rest (a listing's pages are its
    seller's workspace)."""

    seller_path = "seller"
    staff_see_all = False

    def visible_to(self, user):
        if self.staff_see_all and user.is_staff:
            return self
        return self.filter(**{self.seller_path: user})


class PhotoQuerySet(SellersQuerySet):
    seller_path, staff_see_all = "listing__seller", True


class ItemQuerySet(SellersQuerySet):
    seller_path, staff_see_all = "photo__listing__seller", True

    def without_blind_audits(self):
        """Leaving out the audits staff have not decided: a list that picks items by what the model
        said (its category, outcome or confidence) would tell an audit's hidden answer."""
        return self.exclude(audit=True, review=Item.Review.PENDING)


class ListingStatus(models.TextChoices):
    """A listing's status, from its photos' (ListingQuerySet.with_status)."""

    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"


class ListingQuerySet(SellersQuerySet):
    def with_status(self):
        """Each listing annotated with its `status`: processing while any photo is; failed when it has
        photos and every one failed; done otherwise."""
        photos = models.Count("photos")
        pending = models.Count("photos", filter=models.Q(photos__status__in=Photo.Status.pending()))
        failed = models.Count("photos", filter=models.Q(photos__status=Photo.Status.FAILED))
        return self.annotate(photo_count=photos, pending_count=pending, failed_count=failed).annotate(
            status=models.Case(
                models.When(pending_count__gt=0, then=models.Value(ListingStatus.PROCESSING)),
                models.When(photo_count__gt=0, failed_count=models.F("photo_count"),
                            then=models.Value(ListingStatus.FAILED)),
                default=models.Value(ListingStatus.DONE),
            ))

    def as_answered(self):
        """With what the API's answer about each listing reads (catalog.serializers.ListingSerializer):
        its status, category and photos' items, in a few queries rather than some a listing."""
        return self.with_status().select_related("category").prefetch_related("photos__items__category")


class Listing(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="listings")
    title = models.CharField(max_length=TITLE_LIMIT)
    title_chosen = models.BooleanField(default=False, help_text="its seller chose the title on the listing page, "
                                                                "so none is suggested any more")
    category_chosen = models.BooleanField(default=False, help_text="its seller accepted or chose the category, so "
                                                                   "new photos do not change it (staff's review does)")
    reference = models.CharField(max_length=REFERENCE_LIMIT, blank=True,
                                 help_text="the seller's own id for it, e.g. a SKU")
    bulk_job = models.ForeignKey("BulkJob", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="listings")
    bulk_row = models.PositiveIntegerField(null=True, blank=True, help_text="its row in the bulk job's manifest")
    created = models.DateTimeField(auto_now_add=True)
    # The listing's one decision, from the evidence of all its photos (worker.listings).
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, related_name="listings")
    confidences = models.JSONField(default=list, blank=True, help_text="confidence of each level")
    calibrated = models.BooleanField(default=False, help_text="whether the confidences are calibrated probabilities")
    decided_lineage = models.JSONField(default=list, blank=True, help_text=LINEAGE_HELP)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True,
                               help_text="blank until a photo is categorized")
    accepted_depth = models.PositiveSmallIntegerField(default=0, help_text="levels accepted automatically")
    decided = models.DateTimeField(null=True, blank=True)
    # A change that leaves no newer row to find it by (a photo removed): while `decided` is older,
    # the decision that follows it is due (worker.sweeper decides it again when its message is lost).
    photos_removed = models.DateTimeField(null=True, blank=True, db_index=True,
                                          help_text="when a photo was last removed from it")

    objects = ListingQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        # A bulk job's task may run twice (a redelivery); a row still makes one listing.
        constraints = [models.UniqueConstraint(fields=["bulk_job", "bulk_row"], name="one_listing_per_bulk_row")]
        # A seller's listings, newest first (My listings, the API's list): without it a seller of
        # many listings had all of them sorted for every page.
        indexes = [models.Index(fields=["seller", "-created", "-id"], name="listing_seller_newest")]

    def __str__(self):
        return self.title

    @property
    def is_settled(self):
        return not self.photos.filter(status__in=Photo.Status.pending()).exists()

    @cached_property
    def has_blind_audit(self):
        """Whether one of its items waits for a blind audit: its category, usually that item's answer,
        is not shown to staff until then."""
        return Item.objects.filter(photo__listing=self, audit=True, review=Item.Review.PENDING).exists()

    @cached_property  # asked by several parts of one page
    def awaits_redecision(self):
        """Whether its category is being decided again: staff decided about one of its items, or a
        photo was removed, after it was last decided (a worker decides it again, worker.listings).
        Until then its category is not shown: it may be one staff just set aside or changed, or
        rest on the photo removed."""
        return bool(self.redecision_cause)

    @cached_property
    def redecision_cause(self):
        """What its category is being decided again after, in a seller's words ("" when nothing)."""
        staff_since = ReviewDecision.objects.filter(item__photo__listing=self,
                                                    **({"created__gt": self.decided} if self.decided else {}))
        return self._redecision_cause(staff_since.exists())

    def _redecision_cause(self, staff_decided_since):
        if staff_decided_since:
            return "catalogue staff's decision"
        if self.photos_removed and (self.decided is None or self.photos_removed > self.decided):
            return "a photo was removed"
        return ""

    def main_items(self):
        """The main item of every categorized photo: the first the worker found (vision.categorize
        puts the photo's main item first) that staff have not set aside as "not a product"."""
        items = (Item.objects.filter(photo__listing=self, photo__status=Photo.Status.DONE)
                 .exclude(review=Item.Review.NOT_A_PRODUCT).select_related("category").order_by("photo_id", "id"))
        by_photo = {}
        for item in items:  # saved in the order found: a photo's main item first
            by_photo.setdefault(item.photo_id, item)
        return list(by_photo.values())

    @cached_property  # asked by several parts of one page
    def set_aside_by_staff(self):
        """Whether its "not in the catalogue" is staff's (they set every main item aside so, worker.listings)
        rather than the model's, which asks staff to find it a category."""
        if self.outcome != Outcome.NOT_IN_CATALOGUE:
            return False
        items = self.main_items()
        return bool(items) and all(item.review == Item.Review.NOT_IN_CATALOGUE for item in items)

    @property
    def suggested_title(self):
        """The title read on the product in its first photo that has one; "" when none."""
        return next((photo.suggested_title for photo in self.photos.all() if photo.suggested_title), "")

    @property
    def offers_title(self):
        """Whether the listing page offers the title read on the product."""
        return not self.title_chosen and self.suggested_title not in ("", self.title)

    def levels(self):
        """[(name, confidence)] along the decided path; staff's decision has no confidences."""
        return _levels(self, self.outcome == Outcome.REVIEWED)

    def accepted_path(self):
        """The part of the path accepted without review."""
        return _accepted_path(self)


def _levels(decided, staff_decided):
    """[(name, confidence)] along the decided (an item's or a listing's) category's path as the tree is
    now. A level that was not on the path when it was decided (the category has since been moved
    under another) has no confidence (None), and neither has any level of staff's decision."""
    if decided.category is None:
        return []
    confidences = {} if staff_decided else dict(zip(decided.decided_lineage, decided.confidences))
    return [(name, confidences.get(pk)) for name, pk in zip(decided.category.names, decided.category.lineage_ids())]


def _accepted_path(decided):
    """The current path of the deepest level accepted without review ("" when none was), while it
    is on the decided category's path: staff may have moved an item elsewhere since (the model
    accepted Fruit, staff chose Dairy > Milk: no level of that was accepted by the model)."""
    if decided.category is None or not 0 < decided.accepted_depth <= len(decided.decided_lineage):
        return ""
    # The deepest accepted level on the path now (staff settling on Fruit keep the accepted Fruit
    # of an accepted Fruit > Banana).
    paths = category_paths()
    accepted = [paths[pk] for pk in decided.decided_lineage[:decided.accepted_depth] if pk in paths]
    held = [path for path in accepted if within(decided.category.path, path)]
    return max(held, key=len, default="")


class CategoryTree:
    """The whole tree's paths (a few hundred rows) by id and ids by path."""

    def __init__(self):
        self.paths = dict(Category.objects.values_list("pk", "path"))
        self.ids = {path: pk for pk, path in self.paths.items()}


# Pages and the API show the paths of many answers (each level, the runners-up, what was accepted),
# which cost a query each: a page of 50 listings took over a thousand. Inside tree_read_once (each
# request: catalog.middleware) the tree is read once, and again after a category is saved or
# deleted (catalog.signals); outside it (a worker's one item) it is read each time it is asked for.
_request_tree = contextvars.ContextVar("category_tree", default=None)


@contextmanager
def tree_read_once():
    token = _request_tree.set({})
    try:
        yield
    finally:
        _request_tree.reset(token)


def category_tree():
    memo = _request_tree.get()
    if memo is None:
        return CategoryTree()
    if "tree" not in memo:
        memo["tree"] = CategoryTree()
    return memo["tree"]


def forget_category_tree():
    """A category changed: the request's next reading of the tree reads it again."""
    memo = _request_tree.get()
    if memo is not None:
        memo.pop("tree", None)


def category_paths():
    """{category id: path} of the whole tree, for figures over many answers and paths shown."""
    return category_tree().paths


def accepted_level_path(lineage, depth, predicted, paths=None):
    """The current path of the level the model accepted by itself ("" when none), whatever staff
    decided since: the `depth`th category of the path it decided (`lineage`, ids), wherever it was
    moved, while that is on its `predicted` path as the tree is now; else `predicted` cut there (a
    category deleted, or a lineage migration 0011 filled from staff's correction). `paths`:
    {category id: path}, else read."""
    if depth <= 0:
        return ""
    pk = lineage[depth - 1] if depth <= len(lineage) else None
    if pk is not None:
        path = (paths if paths is not None else category_paths()).get(pk)
        if within(predicted, path):
            return path
    return PATH_SEPARATOR.join(predicted.split(PATH_SEPARATOR)[:depth])


def _photo_upload_to(photo, filename):
    extension = filename.rsplit(".", 1)[-1].lower()
    return f"photos/{photo.listing.uuid}/{photo.uuid}.{extension}"


def _display_upload_to(photo, filename):
    return f"photos/{photo.listing.uuid}/{photo.uuid}-{filename}"


class Photo(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        PROCESSING = "processing"
        DONE = "done"
        FAILED = "failed"

        @classmethod
        def pending(cls):
            return [cls.QUEUED, cls.PROCESSING]

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(upload_to=_photo_upload_to, help_text="the original, as uploaded")
    # JPEGs a browser shows (catalog.photos.store_display_images), whatever the original's format.
    display = models.FileField(upload_to=_display_upload_to, blank=True, help_text="the photo as pages show it")
    thumbnail = models.FileField(upload_to=_display_upload_to, blank=True)
    original_name = models.CharField(max_length=255)
    width = models.PositiveIntegerField(null=True)
    height = models.PositiveIntegerField(null=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True)
    failure_reason = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="times a worker has started on it")
    unsent = models.BooleanField(default=False, help_text="its task could not be sent; the sweeper resends it")
    held_until = models.DateTimeField(null=True, blank=True,
                                      help_text="a worker categorizing it together with another photo holds it "
                                                "until then; its own task skips it meanwhile")
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    # Indexed for the sweeper, which looks for listings not decided since (worker.sweeper).
    finished = models.DateTimeField(null=True, blank=True, db_index=True)
    model_version = models.CharField(max_length=200, blank=True)
    index_version = models.CharField(max_length=100, blank=True)
    suggested_title = models.CharField(max_length=TITLE_LIMIT, blank=True,
                                       help_text="a title from the text read on its main item; blank when none")

    objects = PhotoQuerySet.as_manager()

    class Meta:
        ordering = ["created", "id"]

    def __str__(self):
        return f"{self.original_name} ({self.status})"

    @property
    def label_size(self):
        """Font size of the item numbers drawn over the photo, in photo pixels."""
        return round(max(self.width or 0, self.height or 0) / 16)


LIKELY_ALTERNATIVE = 0.01


def _heatmap_upload_to(item, filename):
    return f"heatmaps/{item.photo.listing.uuid}/{item.uuid}.png"


class Item(models.Model):
    """One product found in a photo, with the category the vote assigned it."""

    class Review(models.TextChoices):
        PENDING = "pending", "Not reviewed"
        ACCEPTED = "accepted", "Confirmed by staff"
        CORRECTED = "corrected", "Corrected by staff"
        NOT_IN_CATALOGUE = "not_in_catalogue", "Not in the catalogue"
        NOT_A_PRODUCT = "not_a_product", "Not a product"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="items")
    box = models.JSONField(help_text="[left, top, right, bottom] in photo pixels")
    outline = models.JSONField(default=list, blank=True, help_text="the item's mask as [[x, y], ...] polygons")
    crop_box = models.JSONField(null=True, blank=True, help_text="the part of the photo that was categorized")
    # Null when even the top level was too uncertain to assign.
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, related_name="items")
    confidences = models.JSONField(default=list, help_text="confidence of each level of the category path")
    decided_lineage = models.JSONField(default=list, blank=True, help_text=LINEAGE_HELP)
    # The confidence of the deepest assigned level (0 when nothing was assigned).
    confidence = models.FloatField(default=0.0, db_index=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.NEEDS_REVIEW, db_index=True)
    accepted_depth = models.PositiveSmallIntegerField(default=0, help_text="levels accepted automatically")
    calibrated = models.BooleanField(default=False, help_text="whether the confidences are calibrated probabilities")
    # How likely the full predicted path is wrong: the review order within an outcome.
    risk = models.FloatField(default=1.0, db_index=True)
    predicted_path = models.CharField(max_length=2000, blank=True, help_text="the full predicted path, as it was")
    predicted_category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL,
                                           related_name="+", help_text="the category at the end of predicted_path")
    predicted_confidences = models.JSONField(default=list, blank=True)
    top_similarity = models.FloatField(null=True, blank=True, help_text="of the nearest reference")
    alternatives = models.JSONField(default=list, help_text="[{path, category (its id), confidence}] runners-up")
    text_read = models.JSONField(default=list, blank=True, help_text="[[text, score]] the lines read on the item")
    neighbours = models.JSONField(default=list, help_text="[{reference, path, similarity, shared}] the nearest "
                                  "references, the first k of which voted (vision.vote)")
    embedding = models.BinaryField(null=True, editable=False)
    embedding_version = models.CharField(max_length=200, blank=True, editable=False)
    heatmap = models.FileField(upload_to=_heatmap_upload_to, blank=True)
    heatmap_category = models.CharField(max_length=2000, blank=True, help_text="the category the heatmap is of, "
                                                                              "as it was")
    heatmap_of = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   help_text="the category the heatmap is of")
    activation = models.JSONField(default=list, blank=True, help_text="the raw activation map, 0–255")
    review = models.CharField(max_length=20, choices=Review.choices, default=Review.PENDING, db_index=True)
    audit = models.BooleanField(default=False, db_index=True, help_text="drawn at random from the automatically "
                                "accepted items for staff to label blind (catalog.audits)")

    objects = ItemQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.category or 'Uncategorized'} in {self.photo.original_name}"

    @property
    def readable_text(self):
        """The lines read on the item that a person would read (vision.text.is_readable): what pages
        and the API show; the junk OCR also read stays in text_read, unshown."""
        return [text for text, score in self.text_read if is_readable(text, score)]

    @property
    def heatmap_rect(self):
        left, top, right, bottom = self.crop_box or self.box
        return {"x": left, "y": top, "width": right - left, "height": bottom - top}

    def shared_neighbours(self):
        """The neighbours a seller may see: catalogue references, not other sellers' items."""
        return [n for n in self.current_neighbours() if n.get("shared", True)]

    def current_neighbours(self):
        """The nearest references (the first k voted), each with its category path as the tree is now."""
        paths = getattr(self, "_reference_paths", None)
        if paths is None:
            paths = _reference_paths([self])
        return [{**n, "path": paths.get(n["reference"], n["path"])} for n in self.neighbours]

    @property
    def rect(self):
        left, top, right, bottom = self.box
        return {"x": left, "y": top, "width": right - left, "height": bottom - top}

    @property
    def is_whole_photo(self):
        return self.box == [0, 0, self.photo.width, self.photo.height]

    @property
    def model_accepted(self):
        """What the model accepted by itself, as the tree is now ("" when it accepted nothing),
        whatever staff decided since."""
        return accepted_level_path(self.decided_lineage, self.accepted_depth, self.shown_predicted_path)

    @property
    def seen_as(self):
        """The item's state as a review page shows it (its category and review status): posted back
        with an action, so that one taken on a card another staff member has changed since is refused
        rather than applied to what this one never saw."""
        return f"{self.category_id or 0}.{self.review}.{int(self.audit)}"

    @property
    def is_blind_audit(self):
        """An audit staff have not decided yet: shown without the model's answer (catalog.audits)."""
        return self.audit and self.review == self.Review.PENDING

    @property
    def staff_decision(self):
        """The latest ReviewDecision about the item; None when staff have not decided (the newest
        of its decisions, prefetched by the pages: with_items_shown)."""
        return next(iter(self.decisions.all()), None)

    @property
    def blind_decision(self):
        """An audit's first ReviewDecision, the one made without the model's answer (the card shows
        it after; a later decision, made seeing it, still counts: staff may mend their own mistake).
        None when staff have not decided."""
        return min(self.decisions.all(), key=lambda d: (d.created, d.id), default=None)  # prefetched by the queue

    # What pages and the API show of the paths stored with the item: as the tree is now.

    @property
    def shown_predicted_path(self):
        return category_paths().get(self.predicted_category_id, self.predicted_path)

    @property
    def shown_heatmap_category(self):
        return category_paths().get(self.heatmap_of_id, self.heatmap_category)

    def shown_alternatives(self):
        """[{path, confidence}] of the runners-up, by their categories' current paths (a category
        deleted since is left out); never the model's best guess, which is not a runner-up to itself."""
        paths = category_paths()
        shown = []
        for alternative in self.alternatives:
            category = alternative.get("category")  # None: no category had its path when it was kept
            path = paths.get(category, alternative["path"])
            if (category is None or category in paths) and path != self.shown_predicted_path:
                shown.append({"path": path, "confidence": alternative["confidence"]})
        return shown

    def likely_alternatives(self):
        """The runners-up the pages offer as "also possible": those with at least
        LIKELY_ALTERNATIVE of the vote (the vote gives every category its neighbours bring a share,
        however small, and "0 %" is not a possibility)."""
        return [a for a in self.shown_alternatives() if a["confidence"] >= LIKELY_ALTERNATIVE]

    @property
    def shown_risk(self):
        """How likely the model's best guess (its full predicted path) is wrong, for an answer a
        person may still decide on: one the model did not accept whole, staff have not decided, and
        that has a category (None for any other). The review queue's order within an outcome, so the
        figures on its cards fall as staff go down it."""
        if (self.review != self.Review.PENDING or not self.calibrated or self.category is None
                or self.outcome not in (Outcome.ACCEPTED_AT_PARENT, Outcome.NEEDS_REVIEW)):
            return None
        return self.risk

    def levels(self):
        """[(name, confidence)] along the path, for display. A corrected item's confidences were
        the model's, for another path, so it has none."""
        return _levels(self, self.review == self.Review.CORRECTED)

    def accepted_path(self):
        return _accepted_path(self)


def _reference_paths(items):
    """{reference uuid: its category's path now} of the items' neighbours, in one query."""
    uuids = {n["reference"] for item in items for n in item.neighbours}
    return {str(uuid): path for uuid, path in ReferenceImage.objects.filter(uuid__in=uuids)
            .values_list("uuid", "category__path")}


def _read_reference_paths(items):
    """Each item's current_neighbours answered from one query for all of them."""
    paths = _reference_paths(items)
    for item in items:
        item._reference_paths = paths


def with_items_shown(photos):
    """The photos (a queryset) as a list, each item's neighbours' paths and staff's decisions read
    for all of them at once: a page showed a query's worth of each, item by item."""
    photos = list(photos.prefetch_related(
        "items__category", models.Prefetch("items__decisions", ReviewDecision.objects.select_related("old_category"))))
    _read_reference_paths([item for photo in photos for item in photo.items.all()])
    return photos


def with_cards_read(items):
    """The review queue's items, their neighbours' paths and their listings' flags (waiting for a
    blind audit, being decided again) read for all at once: a card read each with a query."""
    listings = [item.photo.listing for item in items]
    ids = {listing.pk for listing in listings}
    blind = set(Item.objects.filter(photo__listing__in=ids, audit=True, review=Item.Review.PENDING)
                .values_list("photo__listing", flat=True))
    latest = dict(ReviewDecision.objects.filter(item__photo__listing__in=ids).values("item__photo__listing")
                  .annotate(last=models.Max("created")).values_list("item__photo__listing", "last"))
    for listing in listings:
        last = latest.get(listing.pk)
        listing.__dict__["has_blind_audit"] = listing.pk in blind  # the cached_properties, answered
        listing.__dict__["redecision_cause"] = listing._redecision_cause(
            last is not None and (listing.decided is None or last > listing.decided))
    _read_reference_paths(items)
    return items


# Staff's decisions about an item: a category (theirs or the model's, confirmed), or none.
STAFF_DECIDED = (Item.Review.ACCEPTED, Item.Review.CORRECTED)
STAFF_SET_ASIDE = (Item.Review.NOT_IN_CATALOGUE, Item.Review.NOT_A_PRODUCT)


class ReferenceImageQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Catalogue references are for everyone; those made from sellers' items in review, for staff."""
        return self if user.is_staff else self.filter(source=ReferenceImage.Source.IMPORT)

    def made_of(self, item):
        """The reference staff's decision made of the item (catalog.review), if any."""
        return self.filter(source=ReferenceImage.Source.REVIEW, source_key=review_source_key(item))


def review_source_key(item):
    """The source_key of the reference made of an item in review."""
    return f"item:{item.uuid}"


def _reference_upload_to(reference, filename):
    extension = filename.rsplit(".", 1)[-1].lower()
    return f"references/{reference.uuid}.{extension}"


class ReferenceImage(models.Model):
    class Source(models.TextChoices):
        IMPORT = "import"
        REVIEW = "review", "Staff review"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="references")
    image = models.FileField(upload_to=_reference_upload_to)
    source = models.CharField(max_length=20, choices=Source.choices)
    # What makes an import idempotent: the file's path inside its catalogue folder.
    source_key = models.CharField(max_length=1000)
    # The key of the file's bytes (vision.content_keys.content_key): tells the photos a trained embedder saw.
    content_key = models.CharField(max_length=16, blank=True, editable=False)
    embedding = models.BinaryField(null=True, editable=False)
    embedding_version = models.CharField(max_length=200, blank=True, editable=False)
    # Its frozen features (vision.splits.GROUPING_BACKBONE), for an index of another backbone:
    # where "not in the catalogue" is judged and occasions are found.
    novelty_embedding = models.BinaryField(null=True, editable=False)
    novelty_version = models.CharField(max_length=200, blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)

    objects = ReferenceImageQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["source", "source_key"], name="unique_reference_source")]

    def __str__(self):
        return f"{self.category} ← {self.source_key}"


class ReferenceChange(models.Model):
    """A reference added, re-categorized, (re-)embedded or removed, in the order it happened.

    Running workers apply the changes newer than their index file to the index in memory before
    each photo; the file is rewritten only by a compaction (worker.indexing.update_index), which
    records the last change it holds."""

    # Not a key: the change of a removed reference outlives it.
    reference_id = models.BigIntegerField()
    created = models.DateTimeField(auto_now_add=True)

    @classmethod
    def record(cls, reference_ids):
        cls.objects.bulk_create([cls(reference_id=pk) for pk in reference_ids])


class IndexSnapshot(models.Model):
    """An index file published to the storage (worker.index_snapshots), for hosts that share no
    disk: the newest row is the index every worker starts from (then applies the ReferenceChange
    rows after `applied_change`). Files are never overwritten: each publish is a new one."""

    file = models.FileField(upload_to="index/")
    backbone = models.CharField(max_length=200)
    references = models.PositiveIntegerField()
    applied_change = models.BigIntegerField()
    # The snapshot a switch of embedder replaced (rollback_index puts it back); kept by the
    # compactions after the switch, as the local `.previous` file is.
    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        get_latest_by = "pk"

    @classmethod
    def newest(cls):
        """The newest published snapshot, or None."""
        return cls.objects.select_related("previous").order_by("-pk").first()

    def __str__(self):
        return f"{self.file.name} ({self.backbone}, {self.references} references)"


# Who made a decision whose reviewer's account is deleted.
FORMER_REVIEWER = "a former member of staff"


class ReviewDecision(models.Model):
    """What a staff member decided about an item, kept for the record."""

    class Action(models.TextChoices):
        ACCEPTED = "accepted"
        CORRECTED = "corrected"
        NEW_CATEGORY = "new_category", "Made a new category"
        NOT_IN_CATALOGUE = "not_in_catalogue", "Not in the catalogue"
        NOT_A_PRODUCT = "not_a_product", "Not a product"

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="decisions")
    # A reviewer's account may be deleted (an administrator's, or their own once no longer staff):
    # the decision stays, the record the live precision rests on, without their name.
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                 related_name="review_decisions")
    action = models.CharField(max_length=20, choices=Action.choices)
    old_category = models.ForeignKey(Category, null=True, on_delete=models.PROTECT, related_name="+")
    new_category = models.ForeignKey(Category, null=True, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(auto_now_add=True, db_index=True)  # the sweeper's, as Photo.finished

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self):
        return f"{self.reviewer_name} {self.action} {self.new_category}"

    @property
    def reviewer_name(self):
        return self.reviewer.get_username() if self.reviewer else FORMER_REVIEWER


def hash_token_key(key):
    return hashlib.sha256(key.encode()).hexdigest()


def lock_seller(seller):
    """Lock the seller's row until the transaction ends, so that what is counted and then spent
    per seller (API tokens, the daily allowance) cannot be spent twice by requests at once. FOR NO
    KEY UPDATE: rows that only refer to the seller (a new listing, a token) are not held up."""
    get_user_model().objects.select_for_update(no_key=True).filter(pk=seller.pk).exists()


class ApiTokenQuerySet(SellersQuerySet):
    seller_path = "user"

    def issue(self, user, name):
        """(token, its key): the key is shown once; only its hash is stored. Raises TooManyTokens
        when the seller holds CATALOG_MAX_API_TOKENS already."""
        with transaction.atomic():
            lock_seller(user)
            limit = settings.CATALOG_MAX_API_TOKENS
            if self.filter(user=user).count() >= limit:
                raise TooManyTokens(f"You have {limit} API tokens, the most a seller may hold; revoke one you no "
                                    "longer use to make a new one.")
            key = secrets.token_urlsafe(32)
            token = self.create(user=user, name=name, prefix=key[:8], key_hash=hash_token_key(key))
        return token, key


class TooManyTokens(Exception):
    """The seller holds the most API tokens allowed; the message says what to do."""


class ApiToken(models.Model):
    """A seller's key for the REST API. Revoking one deletes it."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=8, help_text="the key's first characters, to tell keys apart")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


def _bulk_upload_to(job, filename):
    return f"bulk/{job.uuid}/{filename}"


class BulkJob(models.Model):
    """One bulk request: its checked manifest and photos, imported row by row by a task
    (worker.tasks.import_bulk_job); which rows became listings, and which were rejected and why."""

    class Status(models.TextChoices):
        PENDING = "pending"
        IMPORTING = "importing"
        DONE = "done"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bulk_jobs")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    rows = models.PositiveIntegerField(default=0)
    manifest = models.JSONField(default=list, help_text="the rows as read and checked: [{number, title, photos, "
                                                        "reference, errors}]")
    # Kept only until the job is done: the worker reads the photos from them.
    archive = models.FileField(upload_to=_bulk_upload_to, blank=True)
    loose_photos = models.FileField(upload_to=_bulk_upload_to, blank=True,
                                    help_text="the request's photo files, as a zip")
    rejected = models.JSONField(default=list, help_text="[{row, reference, errors}]")
    unsent = models.BooleanField(default=False, help_text="its task could not be sent; the sweeper resends it")
    created = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)

    objects = SellersQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]

    def photo_counts(self):
        counts = dict(Photo.objects.filter(listing__bulk_job=self).values_list("status").annotate(n=models.Count("id")))
        return {status: counts.get(status, 0) for status in Photo.Status.values}


class IdempotentRequest(models.Model):
    """The first response to a request sent with an Idempotency-Key, replayed to its retries."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="hash of the request, to catch a key reused for another")
    status_code = models.PositiveSmallIntegerField(null=True, help_text="null while the first request runs")
    body = models.JSONField(null=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="unique_idempotency_key_per_user")]


class AllowanceSpent(models.Model):
    """Photos a seller uploaded, as counted against their daily allowance (catalog.listings): kept
    when the photos are deleted, so that deleting and uploading again spends it again."""

    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    photos = models.PositiveIntegerField()
    pixels = models.PositiveBigIntegerField(help_text="decoded, all the photos together")

    class Meta:
        indexes = [models.Index(fields=["seller", "created"])]


def answering_model(model_version):
    """The model of a photo's `model_version` (catalog.Photo): the embedder's weights and runtime,
    before the index and the other models. A confidence's scale is that model's: its audits measure
    it, and the thresholds they raise are for its answers."""
    return model_version.split("+", 1)[0]


def answered_by(model):
    """Items whose photo `model` (answering_model) categorized."""
    return models.Q(photo__model_version=model) | models.Q(photo__model_version__startswith=model + "+")


class ThresholdChange(models.Model):
    """An auto-accept threshold refitted because audits showed the promise failing (worker.thresholds):
    the latest change of a top-level category's depth, for the target precision and the model in
    force, is the threshold workers use for its answers."""

    created = models.DateTimeField(auto_now_add=True)
    top_level = models.CharField(max_length=200, help_text="the top-level category whose answers it is for")
    depth = models.PositiveSmallIntegerField(help_text="the level of the category tree, 1 the top")
    target_precision = models.FloatField()
    model = models.CharField(max_length=200, blank=True,
                             help_text="the model whose answers it is for (answering_model): another model's "
                                       "confidences are of another scale")
    old_threshold = models.FloatField(null=True, blank=True, help_text="empty: nothing was accepted at this depth")
    new_threshold = models.FloatField(null=True, blank=True, help_text="empty: nothing is accepted at this depth")
    calibration_answers = models.PositiveIntegerField(help_text="the calibration's predictions at this depth")
    audited = models.PositiveIntegerField(help_text="audited answers at this depth")
    audited_right = models.PositiveIntegerField()
    reason = models.TextField()

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self):
        return f"{self.top_level}, depth {self.depth}: {self.old_threshold} → {self.new_threshold}"

    @classmethod
    def in_force(cls, target_precision, model):
        """{(top-level category, depth): threshold} of the latest change of each for this target and
        `model` (inf: nothing is accepted there), as vision.calibration.threshold_at takes them: a
        model switched on starts from its own calibration's thresholds."""
        thresholds = {}
        changes = cls.objects.filter(target_precision=target_precision, model=model)
        for top_level, depth, threshold in changes.values_list("top_level", "depth", "new_threshold"):
            thresholds.setdefault((top_level, depth), math.inf if threshold is None else threshold)
        return thresholds
