import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

PATH_SEPARATOR = " > "


def _validate_category_name(name):
    if not name.strip() or PATH_SEPARATOR.strip() in name:
        raise ValidationError(f"A category name cannot be empty or contain '{PATH_SEPARATOR.strip()}'.")


class CategoryQuerySet(models.QuerySet):
    def get_or_create_path(self, names):
        """The category at the end of `names`, creating any missing ancestor on the way."""
        parent = None
        for depth, name in enumerate(names, start=1):
            parent, _ = self.get_or_create(parent=parent, name=name, defaults={
                "path": PATH_SEPARATOR.join(names[:depth]),
            })
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
        return tuple(self.path.split(PATH_SEPARATOR))


class Listing(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="listings")
    title = models.CharField(max_length=200)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return self.title

    @property
    def is_settled(self):
        return not self.photos.filter(status__in=Photo.Status.pending()).exists()


def _photo_upload_to(photo, filename):
    extension = filename.rsplit(".", 1)[-1].lower()
    return f"photos/{photo.listing.uuid}/{photo.uuid}.{extension}"


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
    image = models.FileField(upload_to=_photo_upload_to)
    original_name = models.CharField(max_length=255)
    width = models.PositiveIntegerField(null=True)
    height = models.PositiveIntegerField(null=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True)
    failure_reason = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="times a worker has started on it")
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    model_version = models.CharField(max_length=200, blank=True)
    index_version = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self):
        return f"{self.original_name} ({self.status})"

    @property
    def label_size(self):
        """Font size of the item numbers drawn over the photo, in photo pixels."""
        return round(max(self.width or 0, self.height or 0) / 16)


class Item(models.Model):
    """One product found in a photo, with the category the vote assigned it."""

    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="items")
    box = models.JSONField(help_text="[left, top, right, bottom] in photo pixels")
    outline = models.JSONField(default=list, blank=True, help_text="the item's mask as [[x, y], ...] polygons")
    # Null when even the top level was too uncertain to assign.
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, related_name="items")
    confidences = models.JSONField(default=list, help_text="confidence of each level of the category path")
    alternatives = models.JSONField(default=list, help_text="[{path, confidence}] runners-up")
    neighbours = models.JSONField(default=list, help_text="[{reference, path, similarity}] that voted")

    class Meta:
        ordering = ["id"]

    @property
    def rect(self):
        left, top, right, bottom = self.box
        return {"x": left, "y": top, "width": right - left, "height": bottom - top}

    @property
    def is_whole_photo(self):
        return self.box == [0, 0, self.photo.width, self.photo.height]

    def levels(self):
        """[(name, confidence)] along the assigned path, for display."""
        names = self.category.names if self.category else ()
        return list(zip(names, self.confidences))


def _reference_upload_to(reference, filename):
    extension = filename.rsplit(".", 1)[-1].lower()
    return f"references/{reference.uuid}.{extension}"


class ReferenceImage(models.Model):
    class Source(models.TextChoices):
        IMPORT = "import"
        CORRECTION = "correction"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="references")
    image = models.FileField(upload_to=_reference_upload_to)
    source = models.CharField(max_length=20, choices=Source.choices)
    # What makes an import idempotent: the file's path inside its catalogue folder.
    source_key = models.CharField(max_length=1000)
    embedding = models.BinaryField(null=True, editable=False)
    embedding_version = models.CharField(max_length=200, blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["source", "source_key"], name="unique_reference_source")]

    def __str__(self):
        return f"{self.category} ← {self.source_key}"
