import io
import os

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Category, ReferenceImage
from vision.index import ReferenceIndex, read_manifest

pytestmark = pytest.mark.django_db


def run_import(directory, *options):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_catalog", str(directory), *options, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_imports_categories_references_and_builds_the_index(small_catalogue, settings):
    out, _ = run_import(small_catalogue[0])
    assert "24 images found: 24 imported, 0 already imported, 0 unreadable" in out
    assert set(Category.objects.values_list("path", flat=True)) == {
        "Fruit", "Fruit > Banana", "Fruit > Apple", "Fruit > Apple > Granny-Smith", "Vegetables",
        "Vegetables > Carrots",
    }
    assert Category.objects.get(path="Fruit > Apple > Granny-Smith").parent.path == "Fruit > Apple"
    assert ReferenceImage.objects.count() == 24
    manifest = read_manifest(settings.CATALOG_INDEX_PATH)
    assert manifest["count"] == 24 and manifest["backbone_version"] == "efficientnet_lite0-imagenet-1"


def test_a_second_run_adds_nothing_and_keeps_the_index(small_catalogue, settings):
    run_import(small_catalogue[0])
    version = read_manifest(settings.CATALOG_INDEX_PATH)["version"]
    out, _ = run_import(small_catalogue[0])
    assert "0 imported, 24 already imported" in out
    assert ReferenceImage.objects.count() == 24 and Category.objects.count() == 6
    assert read_manifest(settings.CATALOG_INDEX_PATH)["version"] == version
    assert len(os.listdir(settings.MEDIA_ROOT / "references")) == 24


def test_new_files_are_added_to_the_index(small_catalogue, settings, tmp_path):
    run_import(small_catalogue[0])
    extra = tmp_path / "more" / "Fruit" / "Banana"
    extra.mkdir(parents=True)
    (extra / "new.jpg").write_bytes(open(small_catalogue[1] / "Fruit" / "Banana" / os.listdir(
        small_catalogue[1] / "Fruit" / "Banana")[0], "rb").read())
    out, _ = run_import(tmp_path / "more")
    assert "1 imported" in out
    assert read_manifest(settings.CATALOG_INDEX_PATH)["count"] == 25


def test_unreadable_files_are_reported_and_skipped(small_catalogue):
    (small_catalogue[0] / "Fruit" / "Banana" / "broken.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    (small_catalogue[0] / "Fruit" / "Banana" / "empty.png").write_bytes(b"")
    out, err = run_import(small_catalogue[0])
    assert "24 imported, 0 already imported, 2 unreadable" in out
    assert "broken.jpg: The file is not an image" in err and "empty.png: The file is empty." in err
    assert ReferenceImage.objects.count() == 24


def test_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Catalogue folder not found"):
        run_import(tmp_path / "nope")


def test_a_folder_without_images_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="No images found"):
        run_import(tmp_path)


def test_a_backbone_that_cannot_be_loaded_imports_nothing(small_catalogue):
    # It stored every reference first and failed at the index, saying nothing of what it had kept.
    with pytest.raises(CommandError, match="no_such_backbone"):
        run_import(small_catalogue[0], "--backbone", "no_such_backbone")
    assert not ReferenceImage.objects.exists() and not Category.objects.exists()


def test_a_backbone_given_to_the_import_rebuilds_an_index_built_by_another(small_catalogue, settings):
    run_import(small_catalogue[0])
    ReferenceIndex(8, "retired_embedder", "retired_embedder-1").save(settings.CATALOG_INDEX_PATH)
    out, _ = run_import(small_catalogue[0], "--backbone", "efficientnet_lite0")
    assert "0 imported, 24 already imported" in out
    manifest = read_manifest(settings.CATALOG_INDEX_PATH)
    assert manifest["backbone"] == "efficientnet_lite0" and manifest["count"] == 24


def test_an_index_built_by_other_weights_than_its_backbone_now_has_is_rebuilt(small_catalogue, settings):
    """After an upgrade that ships new weights under the same name (retrained, re-quantized), a
    worker refuses the old index: the next import (bin/run runs one at each start) rebuilds it."""
    run_import(small_catalogue[0])
    older = "efficientnet_lite0-imagenet-0"
    index = ReferenceIndex.load(settings.CATALOG_INDEX_PATH)
    index.backbone_version = older
    index.save(settings.CATALOG_INDEX_PATH)
    ReferenceImage.objects.update(embedding_version=older)
    out, _ = run_import(small_catalogue[0])
    assert "0 imported, 24 already imported" in out
    manifest = read_manifest(settings.CATALOG_INDEX_PATH)
    assert manifest["backbone_version"] == "efficientnet_lite0-imagenet-1" and manifest["count"] == 24
    assert set(ReferenceImage.objects.values_list("embedding_version", flat=True)) == {"efficientnet_lite0-imagenet-1"}


def test_without_a_backbone_the_import_keeps_the_index_as_it_is(small_catalogue, settings):
    run_import(small_catalogue[0])
    version = read_manifest(settings.CATALOG_INDEX_PATH)["version"]
    settings.CATALOG_BACKBONE = "efficientnet_lite1"  # only chooses the backbone of a first index
    run_import(small_catalogue[0])
    manifest = read_manifest(settings.CATALOG_INDEX_PATH)
    assert manifest["backbone"] == "efficientnet_lite0" and manifest["version"] == version


def test_several_folders_are_imported_together(small_catalogue, settings):
    out, _ = run_import(small_catalogue[0], str(small_catalogue[1]))  # Grocery train's photos and val's
    assert "33 images found: 33 imported, 0 already imported, 0 unreadable" in out
    assert read_manifest(settings.CATALOG_INDEX_PATH)["count"] == ReferenceImage.objects.count() == 33


def test_a_missing_folder_among_several_imports_nothing(small_catalogue, tmp_path):
    with pytest.raises(CommandError, match="not found"):
        run_import(small_catalogue[0], str(tmp_path / "missing"))
    assert ReferenceImage.objects.count() == 0
