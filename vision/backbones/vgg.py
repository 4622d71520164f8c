"""VGG-16 from torchvision: the seeds' CAM backbone, for deployments that can get its weights."""

from torchvision import models

from ._api import Backbone, torchvision_model, torchvision_weights

_TV_WEIGHTS = models.VGG16_Weights.IMAGENET1K_V1

WEIGHTS = torchvision_weights("vgg16", "vgg16-imagenet1k-v1", _TV_WEIGHTS, feature_dim=512, resize_size=256)


def vgg16(pretrained=True):
    model = torchvision_model(models.vgg16, _TV_WEIGHTS, "VGG-16", pretrained)
    # Without the last max-pool the map stays 14×14: twice the heatmap resolution.
    return Backbone(model.features[:-1], WEIGHTS)
