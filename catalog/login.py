"""Logging in, slowed per account rather than locked.

Guessing from one address is locked by django-axes (config/settings.py), counted by the real client
address. Per account, a lock would let anyone lock a seller out by failing on purpose; instead,
after a few wrong passwords for an account, attempts at it from addresses it has not logged in
from are let through one at a time, each a little longer after the one before (at most
CATALOG_LOGIN_SLOWDOWN_LIMIT seconds): guessing from many addresses turns slow, while the seller,
from an address they have logged in from before, is never slowed. The counts live in the default
cache, which must be shared by the web processes (CATALOG_CACHE_URL), as for the API's rates.
"""

import hashlib
import math
import time

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError

from .client_address import client_address

FREE_FAILURES = 5  # typos; a guesser needs thousands
FORGOTTEN_AFTER_SECONDS = 15 * 60
KNOWN_ADDRESS_SECONDS = 90 * 24 * 3600


def _account(username):
    return hashlib.sha256((username or "").strip().lower().encode()).hexdigest()


def _known_key(username, address):
    return f"login-known-{_account(username)}-{address}"


def claim_attempt(username, address):
    """0 when an attempt at the account may check its password now, else the seconds to wait. An
    attempt allowed takes the account's turn: the next from an unknown address waits its interval."""
    if cache.get(_known_key(username, address)):
        return 0
    failures = cache.get(f"login-failures-{_account(username)}", 0)
    if failures < FREE_FAILURES:
        return 0
    interval = min(settings.CATALOG_LOGIN_SLOWDOWN_LIMIT, 2 ** (failures - FREE_FAILURES))
    turn = f"login-turn-{_account(username)}"
    if cache.add(turn, time.time() + interval, interval):  # atomic: one attempt takes each turn
        return 0
    return max(1, math.ceil(cache.get(turn, time.time()) - time.time()))


def count_failure(username):
    key = f"login-failures-{_account(username)}"
    cache.add(key, 0, FORGOTTEN_AFTER_SECONDS)
    try:
        cache.incr(key)  # atomic, so that failures at once all count
    except ValueError:  # expired between the two calls
        cache.add(key, 1, FORGOTTEN_AFTER_SECONDS)


def remember_success(username, address):
    cache.set(_known_key(username, address), 1, KNOWN_ADDRESS_SECONDS)


class SlowedLogin:
    """A login form's check, made to wait while the account is slowed (request-bound forms only)."""

    def clean(self):
        username = self.cleaned_data.get("username")
        address = client_address(self.request) if self.request else ""
        wait = claim_attempt(username, address)
        if wait:
            raise ValidationError(f"Several wrong passwords were tried for this account just now; wait {wait} "
                                  f"second{'s' if wait != 1 else ''} and try again.", code="slowed")
        try:
            cleaned = super().clean()
        except ValidationError:
            count_failure(username)
            raise
        remember_success(username, address)
        return cleaned


class LoginForm(SlowedLogin, AuthenticationForm):
    pass


class AdminLoginForm(SlowedLogin, AdminAuthenticationForm):
    pass
