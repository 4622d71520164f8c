import json

import numpy as np
import pytest
import torch
from PIL import Image

from vision.backbones import BackboneUnavailable, get_backbone, list_backbones
from vision.catalogue import scan_catalogue
from vision.categorize import build_index
from vision.cam import activation_map, refresh_head
from vision.embedder import Embedder
from vision.index import ReferenceIndex


def write_ensemble(tmp_path, name, spec):
    (tmp_path / "weights" / f"{name}.json").write_text(json.dumps(spec))


def photos():
    return [Image.new("RGB", (300, 240), colour) for colour in ((200, 40, 30), (30, 160, 60), (240, 220, 40))]


def test_an_ensemble_embeds_as_its_members_side_by_side_in_proportion_to_their_weights(tiny_embedder, tmp_path):
    write_ensemble(tmp_path, "pair", {"members": ["tiny", "efficientnet_lite0"], "weights": [1, 3]})
    assert "pair" in list_backbones()
    pair = Embedder(get_backbone("pair"), device="cpu")
    tiny, lite0 = (Embedder(get_backbone(name), device="cpu") for name in ("tiny", "efficientnet_lite0"))
    assert pair.dimension == 64 + 1280
    assert pair.weights.version.startswith("pair-")
    assert pair.weights.trained_on == tiny.weights.trained_on
    expected = np.concatenate([tiny.embed(photos()) * 0.5, lite0.embed(photos()) * 3 ** 0.5 / 2], axis=1)
    np.testing.assert_allclose(pair.embed(photos()), expected, atol=1e-5)


def test_its_version_changes_with_its_file(tiny_embedder, tmp_path):
    write_ensemble(tmp_path, "pair", {"members": ["tiny", "efficientnet_lite0"]})
    first = get_backbone("pair").weights.version
    write_ensemble(tmp_path, "pair", {"members": ["tiny", "efficientnet_lite0"], "weights": [1, 2]})
    assert get_backbone("pair").weights.version != first


def test_an_index_of_it_round_trips_and_explains_its_answers(tiny_embedder, small_catalogue, tmp_path):
    write_ensemble(tmp_path, "pair", {"members": ["tiny", "efficientnet_lite0"]})
    embedder = Embedder(get_backbone("pair"), device="cpu", batch_size=8)
    images = scan_catalogue(small_catalogue[0])
    index, skipped = build_index(images, embedder, show_progress=False)
    assert not skipped and index.backbone_version == embedder.weights.version
    index.save(tmp_path / "index.npz")
    loaded = ReferenceIndex.load(tmp_path / "index.npz")
    batch = embedder.forward([Image.open(images[3].path).convert("RGB")])
    assert loaded.search(batch.embeddings, 1)[0][0].reference_id == 3
    refresh_head(loaded)
    heat = activation_map(batch.feature_maps[0], loaded.head, 0)
    assert heat.shape == batch.feature_maps.shape[2:]


def test_an_input_size_has_every_member_see_photos_at_it(tiny_embedder, tmp_path):
    write_ensemble(tmp_path, "pair", {"members": ["tiny", "efficientnet_lite0"], "input_size": 288})
    pair = get_backbone("pair")
    assert (pair.weights.resize_size, pair.weights.crop_size) == (288, 288)
    batch = Embedder(pair, device="cpu").forward(photos())
    assert batch.feature_maps.shape[2:] == (9, 9)
    # Then the members' own sizes do not matter: Lite2 sees 260 px on its own, a member trained
    # since saves 288 px beside older ones at 224.
    write_ensemble(tmp_path, "mixed", {"members": ["tiny", "efficientnet_lite2"], "input_size": 288})
    assert get_backbone("mixed").weights.crop_size == 288


@pytest.mark.parametrize("spec, message", [
    ({"members": []}, "'members' lists backbone names"),
    ({"members": ["tiny", "nosuch"]}, "Unknown backbone 'nosuch'"),
    ({"members": ["tiny", "efficientnet_lite2"]}, "members must share one input"),
    ({"members": ["tiny"], "weights": [0]}, "one positive number per member"),
    ({"members": ["tiny"], "input_size": "288"}, "'input_size' must be a whole number of pixels"),
    ({"members": ["tiny"], "input_size": 8}, "'input_size' must be a whole number of pixels"),
    ({"members": ["tiny"], "fold_predictions": ["a.npz"]}, "'fold_predictions' must name a file"),
    ({"members": ["tiny", "pair"]}, "lists itself"),
    ({"members": ["tiny", "other"]}, "a member that lists it"),
])
def test_a_bad_ensemble_file_says_what_is_wrong(tiny_embedder, tmp_path, spec, message):
    write_ensemble(tmp_path, "pair", spec)
    write_ensemble(tmp_path, "other", {"members": ["pair"]})
    with pytest.raises(BackboneUnavailable, match=message):
        get_backbone("pair", pretrained=False)


def test_grocery_is_the_shipped_grocery_embedder():
    grocery = get_backbone("grocery")
    members = grocery.weights.meta["members"]
    assert grocery.weights.version.startswith("grocery-") and all(m.startswith("grocery_") for m in members)
    with torch.no_grad():
        feature_map = grocery(torch.randn(1, 3, grocery.weights.crop_size, grocery.weights.crop_size))
    assert feature_map.shape[1] == grocery.weights.feature_dim
