"""Guessing passwords: after 10 wrong ones from an address, even the right one waits."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db
RIGHT = {"username": "olivia", "password": "a-long-password-1"}


def _log_in(password, address="10.0.0.1", username="olivia"):
    return Client(REMOTE_ADDR=address).post("/login/", {"username": username, "password": password})


def test_ten_wrong_passwords_lock_the_account_out_from_that_address(owner):
    assert [_log_in(f"guess-{n}").status_code for n in range(10)][-1] == 429
    locked = _log_in(RIGHT["password"])
    assert locked.status_code == 429 and "too many wrong passwords" in locked.content.decode()
    assert _log_in(RIGHT["password"], address="10.0.0.2").status_code == 302  # the seller, elsewhere


def test_guessing_across_accounts_from_one_address_is_locked_too(owner, outsider):
    for n in range(10):
        _log_in("wrong", username=f"user-{n}")
    assert _log_in(RIGHT["password"]).status_code == 429


def test_a_few_mistakes_then_the_right_password_log_in(owner):
    for n in range(3):
        _log_in(f"typo-{n}")
    assert _log_in(RIGHT["password"]).status_code == 302
