"""VGG-16 from torchvision: the seeds' CAM backbone, for deployments that can get its weights."""

from torchvision import models

from ._api import Backbone, Weights, load_torchvision_state_dict

_TV_WEIGHTS = models.VGG16_Weights.IMAGENET1K_V1

WEIGHTS = Weights(
    name="vgg16",
    version="vgg16-imagenet1k-v1",
    feature_dim=512,
    resize_size=256,
    crop_size=224,
    mean=(0.485, 0.456, 0.406),
    std=(0.229, 0.224, 0.225),
    source=f"torchvision {_TV_WEIGHTS} ({_TV_WEIGHTS.url})",
)


def vgg16(pretrained=True):
    model = models.vgg16(weights=None)
    if pretrained:
        model.load_state_dict(load_torchvision_state_dict(_TV_WEIGHTS, "VGG-16"))
    # Without the last max-pool the map stays 14×14: twice the heatmap resolution.
    return Backbone(model.features[:-1], WEIGHTS)
