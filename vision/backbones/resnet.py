"""ResNet-50 from torchvision, for deployments that can download (or have cached) its weights."""

from torch import nn
from torchvision import models

from ._api import Backbone, torchvision_model, torchvision_weights

_TV_WEIGHTS = models.ResNet50_Weights.IMAGENET1K_V2

WEIGHTS = torchvision_weights("resnet50", "resnet50-imagenet1k-v2", _TV_WEIGHTS, feature_dim=2048, resize_size=232)


def resnet50(pretrained=True):
    model = torchvision_model(models.resnet50, _TV_WEIGHTS, "ResNet-50", pretrained)
    trunk = nn.Sequential(
        model.conv1, model.bn1, model.relu, model.maxpool,
        model.layer1, model.layer2, model.layer3, model.layer4,
    )
    return Backbone(trunk, WEIGHTS)
