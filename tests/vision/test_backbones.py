import pytest
import torch
from PIL import Image

from vision.backbones import BackboneUnavailable, get_backbone, list_backbones
from vision.embedder import Embedder, pool_embeddings


def test_the_registry_lists_the_offline_default_and_the_torchvision_backbones():
    assert {"efficientnet_lite0", "resnet50", "vgg16"} <= set(list_backbones())


ALL_BACKBONES = ["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2", "resnet50", "vgg16"]


@pytest.mark.parametrize("name", ALL_BACKBONES)
def test_each_backbone_returns_a_feature_map_of_its_declared_depth(name):
    backbone = get_backbone(name, pretrained=False)
    size = backbone.weights.crop_size
    with torch.no_grad():
        feature_map = backbone(torch.randn(2, 3, size, size))
    assert feature_map.shape[:2] == (2, backbone.weights.feature_dim)
    assert feature_map.shape[2] >= 7 and feature_map.shape[3] >= 7


@pytest.mark.parametrize("name", ["efficientnet_lite0", "efficientnet_lite2"])
def test_the_offline_efficientnets_load_their_pretrained_weights(name):
    pretrained, random = get_backbone(name), get_backbone(name, pretrained=False)
    first = next(iter(pretrained.state_dict()))
    assert not torch.equal(pretrained.state_dict()[first], random.state_dict()[first])


def test_the_embedding_is_the_unit_length_average_pool():
    feature_maps = torch.rand(3, 16, 5, 5)
    embeddings = pool_embeddings(feature_maps)
    assert torch.allclose(embeddings.norm(dim=1), torch.ones(3))
    assert torch.allclose(embeddings[0] * feature_maps[0].mean(dim=(1, 2)).norm(), feature_maps[0].mean(dim=(1, 2)))


def test_the_embedder_keeps_the_feature_map_of_the_same_pass():
    embedder = Embedder(get_backbone("vgg16", pretrained=False), device="cpu")
    batch = embedder.forward([Image.new("RGB", (300, 200), (10, 120, 40))])
    assert batch.embeddings.shape == (1, 512)
    assert batch.feature_maps.shape == (1, 512, 14, 14)
    assert torch.allclose(pool_embeddings(batch.feature_maps)[0], torch.from_numpy(batch.embeddings[0]), atol=1e-6)


@pytest.mark.parametrize("name", ["resnet50", "vgg16"])
def test_a_torchvision_backbone_without_weights_is_refused_clearly(name, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setenv("VISION_ALLOW_WEIGHT_DOWNLOAD", "0")
    with pytest.raises(BackboneUnavailable, match="ImageNet weights are not available.*efficientnet_lite0"):
        get_backbone(name)


def test_an_unknown_backbone_is_refused_with_the_known_names():
    with pytest.raises(BackboneUnavailable, match="Known backbones: efficientnet_lite0"):
        get_backbone("alexnet")


def test_the_shipped_grocery_embedder_is_a_registered_versioned_backbone():
    assert "grocery_lite0" in list_backbones()
    backbone = get_backbone("grocery_lite0")
    assert backbone.weights.version.startswith("grocery_lite0-") and backbone.weights.feature_dim == 512
    with torch.no_grad():
        assert backbone(torch.randn(1, 3, 224, 224)).shape == (1, 512, 7, 7)
