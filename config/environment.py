"""Typed reading of the environment for config/settings.py: one reader per kind of value, each of
which refuses, naming the variable, a value it cannot parse, rather than falling back silently (a
CATALOG_READ_TEXT=true once turned the text reading off)."""

import ipaddress
import os

from django.core.exceptions import ImproperlyConfigured

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


def flag(name, default):
    """A yes/no setting: 1, true, yes, on or 0, false, no, off (any case); `default` when unset or empty."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in TRUE or value in FALSE:
        return value in TRUE
    raise ImproperlyConfigured(f"{name} must be one of {', '.join(TRUE)} or {', '.join(FALSE)}, not {value!r}.")


def integer(name, default):
    """A whole number (underscores allowed, as in 20_000); `default` when unset or empty."""
    return _parsed(name, default, int, "a whole number")


def number(name, default):
    """A number (0.98, 3600); `default` when unset or empty."""
    return _parsed(name, default, float, "a number")


def choice(name, default, choices):
    """One of `choices` (any case); `default` when unset or empty."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}.")
    return value


def _parsed(name, default, kind, described):
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return kind(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {described}, not {value!r}.") from None


def networks(name):
    """Addresses or networks, comma-separated (10.0.0.5, 10.1.0.0/16, ::1); none when unset."""
    value = os.environ.get(name, "")
    try:
        return [ipaddress.ip_network(part.strip()) for part in value.split(",") if part.strip()]
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must list addresses or networks such as 10.0.0.5 or 10.1.0.0/16, "
                                   f"separated by commas: {error}.") from None
