"""One way to read a line of text a seller sends (a title, a reference): the upload form, the API
and bulk manifests all go through it, so the same text is stored whichever way it came. And one
way to tell a person how long to wait, and one to write a share as a percentage."""

import math
import unicodedata

from django.core.exceptions import ValidationError


def single_line(value, limit, required=True):
    """value as one clean line: NFC, each run of whitespace (line breaks and tabs too) one space,
    trimmed. ValueError, with a message for the seller, when it is not text, holds other control
    characters (NUL, escape codes), is too long or, if required, empty."""
    if not isinstance(value, str):
        raise ValueError("must be text.")
    text = " ".join(unicodedata.normalize("NFC", value).split())
    if has_control_characters(text):
        raise ValueError("holds control characters (such as NUL); send plain text.")
    if required and not text:
        raise ValueError("is required.")
    if len(text) > limit:
        raise ValueError(f"must be at most {limit} characters.")
    return text


def clean_title(value, limit):
    """A listing's title as single_line reads it, or a ValidationError that the upload form and
    the API (which accepts Django's) both show on the field."""
    try:
        return single_line(value, limit)
    except ValueError as error:
        raise ValidationError(f"The title {error}") from error


def has_control_characters(text):
    """Whether `text` holds control characters (NUL, escape codes, line breaks) or a lone surrogate
    (JSON's "\\ud800": no UTF-8 text can hold it, so neither can the database or a response)."""
    return any(unicodedata.category(character) in ("Cc", "Cs") for character in text)


def duration_in_words(seconds):
    """A wait told to a person: "1 minute", "12 minutes", "about 3 hours" (rounded up to a minute)."""
    minutes = max(1, math.ceil(seconds / 60))
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = round(minutes / 60)
    return f"about {hours} hour{'s' if hours != 1 else ''}"


ROUNDINGS = {"nearest": round, "down": math.floor}


def percent(share, rounded="nearest"):
    """A share (0..1) as a percentage to a tenth: whole percents would show an interval ending at
    97.6 % as reaching a target of 98 %. An interval's ends are rounded "down", so that each
    compares with a target (a tenth of a percent at most) as the exact one does: an end of 97.96 %,
    below 98 %, shows as 97.9 %, not 98.0 %."""
    if share is None:
        return "–"
    # Rounded to a millionth first: 0.158 is 158.00000000000003 tenths of a percent, not 159.
    return f"{ROUNDINGS[rounded](round(share * 1000, 6)) / 10:.1f}%"
