from django import forms
from django.conf import settings

from worker.photos import ALLOWED_EXTENSIONS, InvalidImage, check_photo


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    widget = MultipleFileInput(attrs={"accept": ",".join(ALLOWED_EXTENSIONS + ("image/*",))})

    def clean(self, data, initial=None):
        uploads = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]
        if not uploads:
            raise forms.ValidationError("Choose at least one photo.")
        limit = settings.CATALOG_MAX_PHOTOS_PER_LISTING
        if len(uploads) > limit:
            raise forms.ValidationError(f"A listing takes at most {limit} photos; you chose {len(uploads)}.")
        return _check_all(uploads)


def _check_all(uploads):
    """Every upload checked, with every bad file named at once (not just the first)."""
    checked, errors = [], []
    for upload in uploads:
        try:
            checked.append(check_photo(upload))
        except InvalidImage as error:
            errors.append(f"{upload.name}: {error}")
    if errors:
        raise forms.ValidationError(errors)
    return checked


class ListingForm(forms.Form):
    title = forms.CharField(max_length=200)
    photos = PhotosField()
