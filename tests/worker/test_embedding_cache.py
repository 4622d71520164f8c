"""Reference embeddings kept outside the database by content and model version
(vision.embedding_cache): a fresh database, or a second install on the machine, imports the same
catalogue without running the model on a single reference again."""

import io

import numpy as np
import pytest
from django.core.management import call_command

from catalog.models import Category, ReferenceChange, ReferenceImage
from vision.embedding_cache import EmbeddingCache
from worker.models_cache import models

pytestmark = pytest.mark.django_db


def _import(directory):
    out = io.StringIO()
    call_command("import_catalog", str(directory), stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _forget_the_database():
    """As a fresh database (or another install's) would be: no references, no categories."""
    ReferenceChange.objects.all().delete()
    ReferenceImage.objects.all().delete()
    while Category.objects.exists():  # a parent is protected while it has children
        Category.objects.filter(children=None).delete()


def test_a_fresh_database_imports_without_embedding_again(small_catalogue, settings, tmp_path, monkeypatch):
    settings.CATALOG_EMBEDDING_CACHE = str(tmp_path / "cache.sqlite3")
    _import(small_catalogue[0])
    first = dict(ReferenceImage.objects.values_list("content_key", "embedding"))
    _forget_the_database()
    settings.MEDIA_ROOT = tmp_path / "another-install"

    def must_not_run(*args, **kwargs):
        raise AssertionError("the model ran on a reference the cache holds")

    monkeypatch.setattr(models.embedder(), "embed", must_not_run)
    out = _import(small_catalogue[0])
    assert "24 imported" in out and ReferenceImage.objects.exclude(embedding=None).count() == 24
    assert dict(ReferenceImage.objects.values_list("content_key", "embedding")) == first


@pytest.mark.parametrize("cache", ["", "/proc/no-cache-can-live-here/cache.sqlite3"], ids=["none", "unwritable"])
def test_without_a_cache_the_model_embeds_every_reference(small_catalogue, settings, monkeypatch, cache):
    settings.CATALOG_EMBEDDING_CACHE = cache
    _import(small_catalogue[0])
    _forget_the_database()
    embedder, embedded = models.embedder(), []
    embed = embedder.embed
    monkeypatch.setattr(embedder, "embed", lambda images: embedded.extend(images) or embed(images))
    _import(small_catalogue[0])
    assert len(embedded) == 24 and ReferenceImage.objects.exclude(embedding=None).count() == 24


def test_the_cache_keeps_each_models_embeddings_apart(tmp_path):
    cache = EmbeddingCache(str(tmp_path / "cache.sqlite3"))
    cache.put_many("model-1", {"a" * 16: np.ones(4), "b" * 16: np.zeros(4)})
    cache.put_many("model-2", {"a" * 16: np.full(4, 2.0)})
    assert set(cache.get_many("model-1", ["a" * 16, "b" * 16, "c" * 16], 4)) == {"a" * 16, "b" * 16}
    assert cache.get_many("model-2", ["a" * 16], 4)["a" * 16].tolist() == [2.0] * 4
    assert cache.get_many("model-3", ["a" * 16], 4) == {}
    assert cache.get_many("model-1", ["a" * 16], 8) == {}  # not this model's size: embedded again
