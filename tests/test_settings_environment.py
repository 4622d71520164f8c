"""The settings read the environment through one typed reader (config.environment), which refuses
what it cannot parse rather than silently falling back."""

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.environment import flag, integer, names, networks, number, rate


@pytest.mark.parametrize("value, read", [("1", True), ("true", True), ("Yes", True), ("ON", True), ("0", False),
                                         ("false", False), ("no", False), ("off", False), ("", True)])
def test_a_flag_reads_every_usual_spelling(monkeypatch, value, read):
    monkeypatch.setenv("CATALOG_READ_TEXT", value)
    assert flag("CATALOG_READ_TEXT", True) is read


@pytest.mark.parametrize("reader, value", [(flag, "maybe"), (integer, "ten"), (integer, "2.5"), (number, "98%")])
def test_a_value_it_cannot_parse_is_refused_naming_the_variable(monkeypatch, reader, value):
    monkeypatch.setenv("CATALOG_SOMETHING", value)
    with pytest.raises(ImproperlyConfigured, match=f"CATALOG_SOMETHING must be .*not '{value}'"):
        reader("CATALOG_SOMETHING", 1)


def test_numbers_take_underscores_and_an_unset_variable_its_default(monkeypatch):
    monkeypatch.setenv("CATALOG_SOMETHING", "20_000")
    assert integer("CATALOG_SOMETHING", 1) == 20_000
    monkeypatch.delenv("CATALOG_SOMETHING")
    assert number("CATALOG_SOMETHING", 0.98) == 0.98


@pytest.mark.parametrize("value", ["600", "600 per minute", "1000/month", "0/minute", "/hour"])
def test_a_rate_the_api_would_misread_is_refused(monkeypatch, value):
    # DRF parsed the rate on each request (a 500 every time) and by its first letter: month was minute.
    monkeypatch.setenv("CATALOG_API_RATE", value)
    with pytest.raises(ImproperlyConfigured, match="CATALOG_API_RATE must be a number of requests per second, minute"):
        rate("CATALOG_API_RATE", "600/minute")


@pytest.mark.parametrize("value", [" 100/Hour ", "100/hours", "100/h"])
def test_a_rate_reads_the_usual_periods(monkeypatch, value):
    monkeypatch.setenv("CATALOG_API_RATE", value)
    assert rate("CATALOG_API_RATE", "600/minute") == value.strip().lower()


def test_a_number_under_its_minimum_is_refused(monkeypatch):
    monkeypatch.setenv("CATALOG_MAX_PHOTOS_PER_LISTING", "0")
    with pytest.raises(ImproperlyConfigured, match="CATALOG_MAX_PHOTOS_PER_LISTING must be at least 1, not 0"):
        integer("CATALOG_MAX_PHOTOS_PER_LISTING", 20, minimum=1)


def test_host_names_are_trimmed(monkeypatch):
    # "a.com, b.com" refused b.com: its name was " b.com".
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "a.com, b.com ,")
    assert names("DJANGO_ALLOWED_HOSTS", "localhost") == ["a.com", "b.com"]


def settings_read(setting="CATALOG_READ_TEXT", **environment):
    """(exit status, output, errors) of loading the settings in a fresh process with `environment`
    added and printing `setting`."""
    script = f"import django; django.setup(); from django.conf import settings; print(settings.{setting})"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **environment})
    return done.returncode, done.stdout, done.stderr


def test_the_app_reads_true_as_on_and_refuses_to_start_on_a_typo():
    status, output, _ = settings_read(CATALOG_READ_TEXT="true")
    assert status == 0 and output.startswith("True\n")  # it used to turn the text reading off
    status, _, errors = settings_read(CATALOG_READ_TEXT="ture")
    assert status != 0 and "CATALOG_READ_TEXT must be one of 1, true, yes, on or 0, false, no, off" in errors


def test_a_manage_py_command_prints_only_its_own_output():
    """django-axes printed its banner ("AXES: BEGIN version ...") before every command's output."""
    done = subprocess.run([sys.executable, "manage.py", "check"], capture_output=True, text=True,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert done.returncode == 0 and "AXES" not in done.stdout + done.stderr, done.stdout + done.stderr


def test_the_log_level_takes_any_case_and_refuses_a_typo():
    # "info" stopped the start with only "Unable to configure root logger".
    status, output, _ = settings_read("LOGGING['root']['level']", CATALOG_LOG_LEVEL="info")
    assert status == 0 and output.startswith("INFO\n")
    status, _, errors = settings_read(CATALOG_LOG_LEVEL="verbose")
    assert status != 0 and "CATALOG_LOG_LEVEL must be one of debug, info, warning, warn" in errors


@pytest.mark.parametrize("value", ["10.0.0.1", "10.0.0.0/8, ::1", ""])
def test_trusted_proxies_read_addresses_and_networks(monkeypatch, value):
    monkeypatch.setenv("CATALOG_TRUSTED_PROXIES", value)
    assert len(networks("CATALOG_TRUSTED_PROXIES")) == len([part for part in value.split(",") if part.strip()])


def test_a_trusted_proxy_that_is_not_an_address_is_refused(monkeypatch):
    monkeypatch.setenv("CATALOG_TRUSTED_PROXIES", "proxy.example.com")
    with pytest.raises(ImproperlyConfigured, match="CATALOG_TRUSTED_PROXIES must list addresses"):
        networks("CATALOG_TRUSTED_PROXIES")


@pytest.mark.parametrize("runtime", ["onnx", "torch"])
def test_each_runtime_finds_items_with_the_product_detector_unless_told(monkeypatch, runtime):
    """The detector stays in float on either runtime (bench/README.md, "One box per product")."""
    from vision.segment import DEFAULT_SEGMENTER

    monkeypatch.delenv("CATALOG_SEGMENTER", raising=False)
    assert settings_read("CATALOG_SEGMENTER", CATALOG_RUNTIME=runtime)[1] == DEFAULT_SEGMENTER + "\n"
    assert settings_read("CATALOG_SEGMENTER", CATALOG_RUNTIME=runtime, CATALOG_SEGMENTER="")[1] == "\n"


def test_the_bucket_is_required_with_s3_storage_and_then_in_force():
    status, _, errors = settings_read("STORAGES", CATALOG_STORAGE="s3", AWS_STORAGE_BUCKET_NAME="")
    assert status and "CATALOG_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME" in errors
    status, output, _ = settings_read("STORAGES['default']['OPTIONS']['bucket_name'], settings.CATALOG_INDEX_SNAPSHOTS",
                                      CATALOG_STORAGE="s3", AWS_STORAGE_BUCKET_NAME="photos",
                                      AWS_S3_ENDPOINT_URL="http://127.0.0.1:8333")
    assert status == 0 and output.strip() == "photos True"
