import subprocess
import sys

SCRIPT = """
import sys
import django
django.setup()
import config.urls, config.wsgi, catalog.admin, catalog.views, catalog.tasks
from django.urls import get_resolver
get_resolver().url_patterns
heavy = sorted(m for m in ("torch", "torchvision", "faiss") if m in sys.modules)
assert not heavy, f"the web process imported {heavy}"
"""


def test_the_web_process_never_imports_torch_or_faiss():
    subprocess.run([sys.executable, "-c", SCRIPT], check=True,
                   env={"DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_SECRET_KEY": "t" * 50,
                        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/15"})


EMBEDDED_SCRIPT = """
import sys
import django
django.setup()
from catalog import tasks
assert "worker.tasks" not in sys.modules
names = [tasks.CATEGORIZE_PHOTO, tasks.DECIDE_LISTING, tasks.IMPORT_BULK_JOB, tasks.UPDATE_REFERENCE_INDEX]
assert [tasks.registered_task(name).name for name in names] == names
"""


def test_with_no_broker_the_web_process_finds_the_tasks_it_sends_by_name():
    """The embedded mode runs a sent task itself: catalog.tasks finds it in the Celery app."""
    subprocess.run([sys.executable, "-c", EMBEDDED_SCRIPT], check=True,
                   env={"DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_SECRET_KEY": "t" * 50})


def test_the_migrations_match_the_models():
    subprocess.run([sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"], check=True)
