from django import forms
from django.conf import settings
from django.contrib.auth.forms import UserCreationForm

from vision.images import InvalidImage
from worker.photos import ALLOWED_EXTENSIONS, check_photo


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
        return [_checked(upload) for upload in uploads]


def _checked(upload):
    try:
        return check_photo(upload)
    except InvalidImage as error:
        raise forms.ValidationError(f"{upload.name}: {error}") from error


class ListingForm(forms.Form):
    title = forms.CharField(max_length=200)
    photos = PhotosField()


class SignupForm(UserCreationForm):
    pass
