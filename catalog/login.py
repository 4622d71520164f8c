"""Logging in, slowed per account rather than locked.

Guessing from one address is locked by django-axes (config/settings.py), counted by the real client
address. Per account, a lock would let anyone lock a seller out by failing on purpose; instead,
after a few wrong passwords for an account, from wherever they came, each further attempt at it
must wait a little longer than the one before, up to LOGIN_SLOWDOWN_LIMIT seconds: guessing turns
slow, and the seller is at most that long from logging in.
"""

import hashlib
import math
import time

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError

FREE_FAILURES = 5  # typos; a guesser needs thousands
FORGOTTEN_AFTER_SECONDS = 15 * 60


def _key(username):
    return "login-failures-" + hashlib.sha256((username or "").strip().lower().encode()).hexdigest()


def wait_seconds(username):
    """How long the account's next attempt must still wait (0: it may go now)."""
    failures, last = cache.get(_key(username), (0, 0.0))
    if failures < FREE_FAILURES:
        return 0
    wait = min(settings.CATALOG_LOGIN_SLOWDOWN_LIMIT, 2 ** (failures - FREE_FAILURES))
    return max(0, math.ceil(last + wait - time.time()))


def count_failure(username):
    failures, _ = cache.get(_key(username), (0, 0.0))
    cache.set(_key(username), (failures + 1, time.time()), FORGOTTEN_AFTER_SECONDS)


def forget_failures(username):
    cache.delete(_key(username))


class SlowedLogin:
    """A login form's check, made to wait while the account is slowed."""

    def clean(self):
        username = self.cleaned_data.get("username")
        wait = wait_seconds(username)
        if wait:
            raise ValidationError(f"Several wrong passwords were tried for this account just now; wait {wait} "
                                  f"second{'s' if wait != 1 else ''} and try again.", code="slowed")
        try:
            cleaned = super().clean()
        except ValidationError:
            count_failure(username)
            raise
        forget_failures(username)
        return cleaned


class LoginForm(SlowedLogin, AuthenticationForm):
    pass


class AdminLoginForm(SlowedLogin, AdminAuthenticationForm):
    pass
