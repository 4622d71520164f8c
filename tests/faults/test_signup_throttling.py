"""Making accounts in a loop: sign-ups from one address are limited."""

import ipaddress

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


def test_a_forged_forwarded_header_is_not_a_new_address(settings, django_user_model):
    settings.CATALOG_SIGNUP_RATE = "3/hour"
    cache.clear()
    answers = [Client(REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").post("/signup/", {
        "username": f"bot-{n}", "password1": "rhubarb-crumble-42", "password2": "rhubarb-crumble-42"}).status_code
        for n in range(4)]
    assert answers == [302, 302, 302, 429] and django_user_model.objects.count() == 3


def test_behind_a_trusted_proxy_each_client_is_counted_on_its_own(settings, django_user_model):
    settings.CATALOG_SIGNUP_RATE = "1/hour"
    settings.CATALOG_TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/24")]
    cache.clear()
    answers = [Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, 10.0.0.7").post("/signup/", {
        "username": f"seller-{n}", "password1": "rhubarb-crumble-42", "password2": "rhubarb-crumble-42"}).status_code
        for n in range(3)]
    assert answers == [302, 302, 302]
