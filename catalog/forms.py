import re
import uuid

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied

from .models import DISPLAYED_SEPARATOR, PATH_SEPARATOR, TITLE_LIMIT, Category
from .photos import ALLOWED_EXTENSIONS, check_photos, problem_text, too_many_photos
from .text import clean_title


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    widget = MultipleFileInput(attrs={"accept": ",".join(ALLOWED_EXTENSIONS + ("image/*",))})

    def clean(self, data, initial=None):
        checked, problems = check_photos([f for f in (data if isinstance(data, (list, tuple)) else [data]) if f])
        if problems:
            raise forms.ValidationError([problem_text(problem) for problem in problems])
        return checked


def photo_input_limits(room, too_many, chosen_list):
    """The data attributes static/catalog/upload.js reads to say, as files are chosen, what the
    server would refuse: more than `room` photos (saying `too_many`, where {chosen} is their
    number), an empty file or one over the size limit; it lists the files in #`chosen_list`."""
    return {"data-max-photos": room, "data-max-bytes": settings.CATALOG_MAX_PHOTO_BYTES,
            "data-too-many": too_many, "data-chosen-list": chosen_list}


class TitleForm(forms.Form):
    title = forms.CharField(max_length=TITLE_LIMIT)

    def clean_title(self):
        return clean_title(self.cleaned_data["title"], TITLE_LIMIT)


class ListingForm(TitleForm):
    photos = PhotosField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = settings.CATALOG_MAX_PHOTOS_PER_LISTING
        self.fields["photos"].widget.attrs.update(
            photo_input_limits(limit, too_many_photos(limit, "{chosen}"), "chosen-files"))


class AddPhotosForm(forms.Form):
    photos = PhotosField()


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses this key, e.g. “stock sync”.")


class DeleteAccountForm(forms.Form):
    """Deleting the account asks for its password: a session left open is not enough. Checked as a
    login is, so that wrong guesses count towards the lock-out (django-axes) as they do there."""

    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
                               help_text="Your password, to confirm.")

    def __init__(self, request, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_password(self):
        password = self.cleaned_data["password"]
        try:
            confirmed = authenticate(self.request, username=self.request.user.get_username(), password=password)
        except PermissionDenied:  # locked out by too many wrong passwords
            confirmed = None
        if confirmed is None or confirmed.pk != self.request.user.pk:
            raise forms.ValidationError("That is not your password (or too many were wrong: wait a quarter of an "
                                        "hour): nothing was deleted.")
        return password



class CategoryPathField(forms.CharField):
    """A category chosen by its full path (the review pages offer every path to pick from)."""

    def clean(self, value):
        path = super().clean(value)
        if not path:
            return None
        # Typed as the pages show paths, "Fruit › Apple" (templates/catalog/_levels.html), it is the same path.
        typed = PATH_SEPARATOR.join(name.strip() for name in path.strip().split(DISPLAYED_SEPARATOR))
        # Typed by hand, the case may differ: the exact path first, then the one that differs only in case.
        matches = Category.objects.filter(path__iexact=typed)
        category = next((c for c in matches if c.path == typed), None) or matches.first()
        if category is None:
            # The typed text goes in as a parameter: django-filter %-formats every message, so a "%"
            # typed into the message itself would be a server error.
            raise forms.ValidationError("There is no category “%(path)s”; pick one from the list.",
                                        code="invalid", params={"path": path})
        return category


class CategorySearchField(forms.CharField):
    """Categories by any part of their path, in any case ("apple" finds Fruit > Apple and all under
    it); the page offers every path as you type."""

    widget = forms.TextInput(attrs={"list": "category-paths", "autocomplete": "off",
                                    "placeholder": "part of a name, e.g. apple"})

    def clean(self, value):
        text = super().clean(value).strip()
        if text and not Category.objects.filter(path__icontains=text).exists():
            raise forms.ValidationError("No category path holds “%(text)s”.", code="invalid", params={"text": text})
        return text


class CategoryChoiceForm(forms.Form):
    """A category chosen from the tree: staff's correction, or a seller's own choice for a listing."""

    category = CategoryPathField(max_length=2000, error_messages={"required": "Choose the right category."})


SEPARATORS_TYPED = f"[{re.escape(PATH_SEPARATOR.strip())}{DISPLAYED_SEPARATOR}]"


class NewCategoryForm(forms.Form):
    """A category that does not exist yet, as its full path: under an existing parent, or a new top level."""

    path = forms.CharField(max_length=2000, error_messages={"required": "Type the new category's full path."})

    def typed_path(self):
        """The path as typed, written as paths are stored ("" when it names no category)."""
        names = self._names(self.data.get("path", ""))
        return PATH_SEPARATOR.join(names) if all(names) else ""

    @staticmethod
    def _names(typed):
        # The pages show a path's levels separated by "›" (templates/catalog/_levels.html): staff
        # may type it so too.
        return [name.strip() for name in re.split(SEPARATORS_TYPED, typed)]

    def clean_path(self):
        names = self._names(self.cleaned_data["path"])
        if not all(names):
            raise forms.ValidationError(f"A category path is names separated by “{PATH_SEPARATOR.strip()}”, "
                                        "none of them empty.")
        path = PATH_SEPARATOR.join(names)
        if Category.objects.filter(path=path).exists():
            raise forms.ValidationError(f"“{path}” already exists; choose it with Correct (Choose on an audit) "
                                        "instead.")
        parent = Category.objects.filter(path=PATH_SEPARATOR.join(names[:-1])).first() if len(names) > 1 else None
        if len(names) > 1 and parent is None:
            raise forms.ValidationError(f"There is no category “{PATH_SEPARATOR.join(names[:-1])}” to put "
                                        f"“{names[-1]}” under; make the parent first.")
        max_length = Category._meta.get_field("name").max_length
        if len(names[-1]) > max_length:
            raise forms.ValidationError(f"A category name is at most {max_length} characters.")
        return parent, names[-1]


class UUIDListField(forms.Field):
    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        try:
            return [uuid.UUID(v) for v in value or []]
        except ValueError as error:
            raise forms.ValidationError("The selection holds an item that does not exist.") from error


class BulkReviewForm(forms.Form):
    ACTIONS = {"accept": "accepted", "reassign": "corrected"}

    items = UUIDListField(error_messages={"required": "Select at least one item."})
    action = forms.ChoiceField(choices=[(a, a) for a in ACTIONS])
    category = CategoryPathField(required=False, max_length=2000)

    def clean(self):
        data = super().clean()
        if data.get("action") == "reassign" and not data.get("category"):
            self.add_error("category", "Choose the category to correct the selected items to.")
        if data.get("action") == "accept":
            if self.data.get("category", "").strip():
                self.add_error("category", "A category is typed in: press Correct selected to move the items to it, "
                                           "or clear it to accept them as they are.")
            data["category"] = None
        return data

    @property
    def done_verb(self):
        return self.ACTIONS[self.cleaned_data["action"]]
