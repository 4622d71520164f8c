"""Serving needs no PyTorch: a real worker that categorizes, and `python -m vision.evaluate` on
the default runtime, run where `import torch` fails, on ONNX Runtime and the shipped model files
(requirements/serving.txt is all such a host installs)."""

import json
import os
import subprocess
import sys

import pytest

from catalog.models import Listing
from tests.celery_support import wait_until_settled
from tests.photos import grocery_upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def without_torch(tmp_path_factory):
    """An environment in which `import torch` and `import torchvision` fail: packages of those
    names, first on the path, that refuse to load."""
    root = tmp_path_factory.mktemp("no-torch")
    for name in ("torch", "torchvision"):
        (root / name).mkdir()
        (root / name / "__init__.py").write_text(f"raise ImportError('{name} is not installed on this host')\n")
    path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    return {"PYTHONPATH": path}


def test_the_environment_truly_lacks_pytorch(without_torch):
    result = subprocess.run([sys.executable, "-c", "import torch"], env=os.environ | without_torch,
                            capture_output=True, text=True)
    assert result.returncode != 0 and "torch is not installed on this host" in result.stderr


def test_a_worker_without_pytorch_categorizes_a_photo(start_worker, imported_catalogue, owner_client, without_torch):
    process, log = start_worker(env=without_torch)
    response = owner_client.post("/listings/new/", {"title": "Bananas", "photos": [grocery_upload("Fruit/Banana")]})
    assert response.status_code == 302
    listing = Listing.objects.get()
    wait_until_settled(listing)
    photo = listing.photos.get()
    log.seek(0)
    assert photo.status == "done", f"photo is {photo.status}; worker log:\n{log.read()[-3000:]}"
    item = photo.items.first()
    assert item.category.path == "Fruit > Banana" and item.heatmap
    assert "@onnxruntime+index:" in photo.model_version
    assert process.poll() is None


def test_evaluate_measures_without_pytorch(small_catalogue, without_torch, tmp_path):
    reference, queries = small_catalogue
    result = subprocess.run(
        [sys.executable, "-m", "vision.evaluate", "--reference", str(reference), "--queries", str(queries),
         "--json", str(tmp_path / "figures.json")],
        env=os.environ | without_torch, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads((tmp_path / "figures.json").read_text())
    assert figures["n_queries"] > 0 and figures["accuracy_by_depth"]["1"] >= 0.8
