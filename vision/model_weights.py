"""The description of a model's weights: what every runtime needs to use them as they were
trained (vision.backbones builds them on PyTorch; vision.onnx_runtime reads them from a model
file), and the error when a model cannot be had. Torch-free, so that serving on ONNX Runtime needs no PyTorch.
"""

import hashlib
import os
from dataclasses import dataclass, field

SHIPPED_WEIGHTS_DIR = os.path.join(os.path.dirname(__file__), "weights")
# The backbones vision.backbones builds by name from pretrained weights, trained on no catalogue.
GENERIC_BACKBONES = ("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2", "resnet50", "vgg16")
# The embedder new indexes are built with unless told otherwise.
DEFAULT_BACKBONE = "efficientnet_lite0"
# The name of a model quantized to int8 (vision.onnx_export.quantize) is the float model's and this:
# its outputs differ a little from the float model's, so it has a version of its own (an
# embedder: an index of its own). Only ONNX Runtime runs it.
INT8_SUFFIX = "_int8"
# Its version is the float model's and this: the recipe is part of it ("w7": weights in 7 bits, which
# every x86 CPU computes alike), so that what an earlier recipe embedded (an index, the embedding
# cache) is never taken for this one's.
INT8_VERSION_SUFFIX = INT8_SUFFIX + "w7"


def weights_dir():
    """Where trained models live: the shipped ones, unless VISION_WEIGHTS_DIR says otherwise."""
    return os.environ.get("VISION_WEIGHTS_DIR", SHIPPED_WEIGHTS_DIR)


def file_version(name, path):
    """NAME-<hash of the weights file>: it changes whenever the weights do."""
    with open(path, "rb") as handle:
        return f"{name}-{hashlib.sha256(handle.read()).hexdigest()[:12]}"


def ensemble_version(name, text, member_versions):
    """NAME-<hash of the ensemble's file `text` (bytes) and its members' versions>: it changes
    whenever the file or any member's weights do (vision.backbones.ensemble)."""
    digest = hashlib.sha256(text)
    for version in member_versions:
        digest.update(version.encode())
    return f"{name}-{digest.hexdigest()[:12]}"


class ModelUnavailable(RuntimeError):
    """A model cannot be had on this machine, on the runtime asked for; the message says what to
    do (vision.backbones.BackboneUnavailable on PyTorch, vision.onnx_runtime.RuntimeUnavailable on
    ONNX Runtime)."""


@dataclass(frozen=True)
class Weights:
    """Everything needed to use a backbone's weights the way they were trained.

    `version` is recorded with every index and prediction, so it must change whenever
    the weights do.
    """

    name: str
    version: str
    feature_dim: int
    resize_size: int
    crop_size: int
    mean: tuple
    std: tuple
    source: str
    meta: dict = field(default_factory=dict)
    # Content keys (vision.splits.content_key) of the photos these weights were trained on: an
    # evaluation that queries them, or a calibration fitted on them, would be flattered.
    trained_on: frozenset = frozenset()

    def transforms(self):
        """torchvision's preprocessing for them (imported here: the description itself is torch-free)."""
        import torch
        from torchvision.transforms import v2 as T

        return T.Compose([
            T.ToImage(),
            T.Resize(self.resize_size, antialias=True),
            T.CenterCrop(self.crop_size),
            T.ToDtype(torch.float32, scale=True),
            T.Normalize(self.mean, self.std),
        ])
