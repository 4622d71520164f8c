"""ResNet-50 from torchvision, for deployments that can download (or have cached) its weights."""

from torch import nn
from torchvision import models

from ._api import Backbone, Weights, load_torchvision_state_dict

_TV_WEIGHTS = models.ResNet50_Weights.IMAGENET1K_V2

WEIGHTS = Weights(
    name="resnet50",
    version="resnet50-imagenet1k-v2",
    feature_dim=2048,
    resize_size=232,
    crop_size=224,
    mean=(0.485, 0.456, 0.406),
    std=(0.229, 0.224, 0.225),
    source=f"torchvision {_TV_WEIGHTS} ({_TV_WEIGHTS.url})",
)


def resnet50(pretrained=True):
    model = models.resnet50(weights=None)
    if pretrained:
        model.load_state_dict(load_torchvision_state_dict(_TV_WEIGHTS, "ResNet-50"))
    trunk = nn.Sequential(
        model.conv1, model.bn1, model.relu, model.maxpool,
        model.layer1, model.layer2, model.layer3, model.layer4,
    )
    return Backbone(trunk, WEIGHTS)
