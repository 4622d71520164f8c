import pathlib
import subprocess
import sys

SCRIPT = """
import sys
import django
django.setup()
import config.urls, config.wsgi, catalog.admin, catalog.views, worker.tasks
from django.urls import get_resolver
get_resolver().url_patterns
heavy = sorted(m for m in ("torch", "torchvision", "faiss") if m in sys.modules)
assert not heavy, f"the web process imported {heavy}"
"""


def test_the_web_process_never_imports_torch_or_faiss():
    subprocess.run([sys.executable, "-c", SCRIPT], check=True,
                   env={"DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_SECRET_KEY": "test",
                        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/15"})


def test_the_migrations_match_the_models():
    subprocess.run([sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"], check=True)


def test_the_django_app_reaches_vision_only_through_the_worker():
    offenders = [str(path) for path in pathlib.Path("catalog").rglob("*.py")
                 if "from vision" in path.read_text() or "import vision" in path.read_text()]
    assert offenders == []
