"""What every backbone shares: a weights description and the feature-map module contract."""

import os

import torch
from torch import nn

from ..model_weights import ModelUnavailable, Weights


class BackboneUnavailable(ModelUnavailable):
    """The backbone's weights cannot be had on this machine; the message says what to do."""


class Backbone(nn.Module):
    """A CNN trunk returning its last convolutional feature map (B, C, H, W).

    The embedding and the class-activation map are both computed from this one map, so
    a single forward pass serves categorization and its heatmap.
    """

    def __init__(self, trunk, weights):
        super().__init__()
        self.trunk = trunk
        self.weights = weights

    def forward(self, batch):
        return self.trunk(batch)


def downloads_allowed():
    return os.environ.get("VISION_ALLOW_WEIGHT_DOWNLOAD", "1") not in ("0", "false", "no")


def torchvision_weights(name, version, tv_weights, feature_dim, resize_size):
    """The Weights of a torchvision ImageNet model: 224-pixel crops, ImageNet's mean and std."""
    return Weights(name=name, version=version, feature_dim=feature_dim, resize_size=resize_size, crop_size=224,
                   mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225),
                   source=f"torchvision {tv_weights} ({tv_weights.url})")


def torchvision_model(build, tv_weights, label, pretrained):
    """A torchvision model from its builder, with its ImageNet weights `tv_weights` when `pretrained`."""
    model = build(weights=None)
    if pretrained:
        model.load_state_dict(load_torchvision_state_dict(tv_weights, label))
    return model


def load_torchvision_state_dict(tv_weights, label):
    """Load torchvision ImageNet weights from the torch cache, downloading only if allowed."""
    filename = os.path.basename(tv_weights.url)
    cached = os.path.join(torch.hub.get_dir(), "checkpoints", filename)
    if not os.path.exists(cached) and not downloads_allowed():
        raise BackboneUnavailable(_unavailable_message(label, cached, "downloads are disabled"))
    try:
        return tv_weights.get_state_dict(progress=False, check_hash=True)
    except Exception as error:  # any network or file error means the same thing to the user
        raise BackboneUnavailable(_unavailable_message(label, cached, str(error))) from error


def _unavailable_message(label, cached, reason):
    return (
        f"{label} ImageNet weights are not available ({reason}). Put the file at {cached} "
        f"(or set TORCH_HOME), or use the offline default backbone 'efficientnet_lite0'."
    )
