"""A worker on ONNX Runtime (CATALOG_RUNTIME=onnx, the default) embeds with the same weights as
PyTorch, so an index built on PyTorch serves it as it is, from the files in CATALOG_ONNX_DIR; a
missing model file or execution provider fails the photo with a reason, not a crash."""

import io

import pytest
from django.core.management import call_command

from catalog.models import Photo
from vision.onnx_export import export, export_segmenter
from vision.onnx_runtime import onnx_path
from vision.segment import DEFAULT_SEGMENTER
from worker.tasks import categorize_photo

pytestmark = pytest.mark.django_db


def test_an_index_built_on_pytorch_serves_a_worker_on_onnx_runtime(banana_photo, small_catalogue, settings,
                                                                    tmp_path):
    settings.CATALOG_RUNTIME = "torch"
    call_command("import_catalog", str(small_catalogue[0]), stdout=io.StringIO(), stderr=io.StringIO())
    settings.CATALOG_ONNX_DIR = tmp_path / "onnx"
    export("efficientnet_lite0", onnx_path("efficientnet_lite0", settings.CATALOG_ONNX_DIR))
    export_segmenter(DEFAULT_SEGMENTER, onnx_path(DEFAULT_SEGMENTER, settings.CATALOG_ONNX_DIR))
    settings.CATALOG_RUNTIME, settings.CATALOG_SEGMENTER = "onnx", DEFAULT_SEGMENTER
    categorize_photo(banana_photo.id)
    photo = Photo.objects.get()
    item = photo.items.first()
    assert photo.status == "done" and item.category.path == "Fruit > Banana" and item.heatmap
    assert "@onnxruntime+index:" in photo.model_version


@pytest.mark.parametrize("provider, reason", [("cpu", "export_onnx"), ("cuda", "CUDAExecutionProvider")])
def test_a_missing_model_or_provider_fails_the_photo_with_a_reason(banana_photo, imported_catalogue, settings,
                                                                   tmp_path, provider, reason, caplog):
    settings.CATALOG_ONNX_DIR = tmp_path / "onnx"
    if provider == "cpu":  # an embedder with weights here but no ONNX file (the shipped ones are found)
        settings.CATALOG_RUNTIME = "torch"
        call_command("rebuild_index", "--backbone", "grocery_lite0", stdout=io.StringIO(), stderr=io.StringIO())
    settings.CATALOG_RUNTIME, settings.CATALOG_ONNX_PROVIDER = "onnx", provider
    categorize_photo(banana_photo.id)
    photo = Photo.objects.get()
    assert photo.status == "failed" and "not set up on this server" in photo.failure_reason
    assert reason in caplog.text  # the log tells the operator what to do


def test_an_index_of_an_int8_model_fails_a_pytorch_workers_photo_saying_why(banana_photo, small_catalogue, settings,
                                                                           caplog):
    """The demo's index (grocery_int8) on a worker switched to PyTorch, which cannot run it."""
    settings.CATALOG_SEGMENTER = ""
    call_command("import_catalog", str(small_catalogue[0]), "--backbone", "grocery_int8", stdout=io.StringIO(),
                 stderr=io.StringIO())
    settings.CATALOG_RUNTIME = "torch"
    categorize_photo(banana_photo.id)
    photo = Photo.objects.get()
    assert photo.status == "failed" and "not set up on this server" in photo.failure_reason
    assert "runs on ONNX Runtime only" in caplog.text and "rebuild_index" in caplog.text  # for the operator
