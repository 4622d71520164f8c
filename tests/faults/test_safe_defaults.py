"""Settings a fresh install starts with: debug off, and no public secret key."""

import os
import subprocess
import sys

SHOW = "from django.conf import settings; print(settings.DEBUG, len(settings.SECRET_KEY))"


def _settings(tmp_path, **env):
    base = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    return subprocess.run([sys.executable, "-c", f"import django; django.setup(); {SHOW}"], capture_output=True,
                          text=True, env=base | {"DJANGO_SETTINGS_MODULE": "config.settings",
                                                 "CATALOG_VAR_DIR": str(tmp_path)} | env)


def test_without_a_secret_key_it_refuses_to_start_and_says_how_to_fix_it(tmp_path):
    started = _settings(tmp_path)
    assert started.returncode != 0 and "set DJANGO_SECRET_KEY" in started.stderr


def test_debug_is_off_unless_asked_for(tmp_path):
    assert _settings(tmp_path, DJANGO_SECRET_KEY="k" * 50).stdout.split() == ["False", "50"]
    assert _settings(tmp_path, DJANGO_DEBUG="1").stdout.split()[0] == "True"


def test_the_key_bin_secret_key_made_is_used(tmp_path):
    subprocess.run(["bin/secret-key"], check=True, env=os.environ | {"CATALOG_VAR_DIR": str(tmp_path)})
    key_file = tmp_path / "secret_key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert _settings(tmp_path).stdout.split() == ["False", str(len(key_file.read_text().strip()))]


def test_a_short_or_public_key_is_refused_outside_debug(tmp_path):
    short = _settings(tmp_path, DJANGO_SECRET_KEY="k" * 49)
    assert short.returncode != 0 and "is 49 characters" in short.stderr and "at least 50" in short.stderr
    public = _settings(tmp_path, DJANGO_SECRET_KEY="insecure-development-key-set-DJANGO_SECRET_KEY")
    assert public.returncode != 0 and "public development key" in public.stderr


def test_debug_without_a_key_says_it_uses_a_public_one(tmp_path):
    started = _settings(tmp_path, DJANGO_DEBUG="1")
    assert started.returncode == 0 and "using the public development key" in started.stderr


def test_behind_an_https_proxy_the_deployment_check_has_nothing_to_say(tmp_path):
    base = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    checked = subprocess.run([sys.executable, "manage.py", "check", "--deploy"], capture_output=True, text=True,
                             env=base | {"DJANGO_SECRET_KEY": "q7Xz-3kP9w" * 6, "CATALOG_HTTPS_PROXY": "1",
                                         "CATALOG_VAR_DIR": str(tmp_path)})
    said = checked.stdout + checked.stderr
    assert checked.returncode == 0 and "System check identified no issues (1 silenced)" in said, said
