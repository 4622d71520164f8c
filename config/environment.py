"""Typed reading of the environment for config/settings.py: one reader per kind of value, each of
which refuses, naming the variable, a value it cannot parse, rather than falling back silently (a
CATALOG_READ_TEXT=true once turned the text reading off)."""

import ipaddress
import os

from django.core.exceptions import ImproperlyConfigured

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")
RATE_PERIODS = ("s", "sec", "second", "seconds", "m", "min", "minute", "minutes", "h", "hour", "hours", "d", "day",
                "days")


def flag(name, default):
    """A yes/no setting: 1, true, yes, on or 0, false, no, off (any case); `default` when unset or empty."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in TRUE or value in FALSE:
        return value in TRUE
    raise ImproperlyConfigured(f"{name} must be one of {', '.join(TRUE)} or {', '.join(FALSE)}, not {value!r}.")


def integer(name, default, minimum=None):
    """A whole number (underscores allowed, as in 20_000), at least `minimum` when given; `default`
    when unset or empty."""
    return _at_least(name, _parsed(name, default, int, "a whole number"), minimum)


def number(name, default, minimum=None):
    """A number (0.98, 3600), at least `minimum` when given; `default` when unset or empty."""
    return _at_least(name, _parsed(name, default, float, "a number"), minimum)


def rate(name, default):
    """A rate as Django REST framework counts it, N/second, N/minute, N/hour or N/day; `default`
    when unset or empty. Checked here: the framework reads it on each request (a bad one was a 500
    on every request) and by its first letter only (1000/month was 1000 a minute)."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    count, _, period = value.partition("/")
    if not count.isdigit() or int(count) < 1 or period not in RATE_PERIODS:
        raise ImproperlyConfigured(f"{name} must be a number of requests per second, minute, hour or day, "
                                   f"such as 600/minute, not {value!r}.")
    return value


def names(name, default):
    """Comma-separated names (host names, origins), each trimmed of spaces; `default` when unset."""
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


def choice(name, default, choices):
    """One of `choices` (any case); `default` when unset or empty."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}.")
    return value


def _at_least(name, value, minimum):
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}.")
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
