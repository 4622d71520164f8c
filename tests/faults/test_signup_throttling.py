"""Making accounts in a loop: sign-ups from one address are limited."""

import pytest
from django.core.cache import cache
from django.test import Client

pytestmark = pytest.mark.django_db


def _sign_up(name, address):
    return Client(REMOTE_ADDR=address).post("/signup/", {"username": name, "password1": "rhubarb-crumble-42",
                                                         "password2": "rhubarb-crumble-42"})


def test_sign_ups_from_one_address_are_limited(settings, django_user_model):
    settings.CATALOG_SIGNUP_RATE = "3/hour"
    cache.clear()
    answers = [_sign_up(f"bot-{n}", "10.0.0.9").status_code for n in range(4)]
    assert answers == [302, 302, 302, 429] and django_user_model.objects.count() == 3
    assert _sign_up("someone", "10.0.0.10").status_code == 302
