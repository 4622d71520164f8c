"""Embedders adapted to a catalogue by vision/training/train_embedder.py.

A weights file holds the base backbone's name, a 1×1 projection of its feature map, and the
trained parameters. The projection is applied to the map before pooling (a linear map commutes
with average pooling), so the model still returns a feature map for the heatmap issue.
"""

import os
from dataclasses import replace

import torch
from torch import nn

from ..model_weights import file_version, weights_dir
from ._api import Backbone, BackboneUnavailable


class ProjectedTrunk(nn.Module):
    def __init__(self, trunk, in_channels, out_channels):
        super().__init__()
        self.trunk = trunk
        self.projection = nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False)

    def forward(self, batch):
        return self.projection(self.trunk(batch))


def build_projected(base, projection_dim, name, version, source, input_size=None, trained_on=()):
    """A base Backbone with a projection head, described as the backbone `name` (seeing photos at
    `input_size` pixels, or at the base's own size) that was trained on the photos `trained_on`."""
    size = {"resize_size": input_size, "crop_size": input_size} if input_size else {}
    weights = replace(base.weights, name=name, version=version, feature_dim=projection_dim, source=source,
                      trained_on=frozenset(trained_on), **size)
    return Backbone(ProjectedTrunk(base.trunk, base.weights.feature_dim, projection_dim), weights)


def weights_path(name):
    return os.path.join(weights_dir(), f"{name}.pt")


def available():
    return names_in_weights_dir(".pt")


def names_in_weights_dir(suffix):
    """The names of the files in weights_dir() that end with `suffix`, without it."""
    if not os.path.isdir(weights_dir()):
        return []
    return sorted(f[:-len(suffix)] for f in os.listdir(weights_dir()) if f.endswith(suffix))


def finetuned(name, get_backbone, pretrained=True):
    """The trained embedder `name` from vision/weights/NAME.pt, its base built by `get_backbone`
    (the registry's, which passes itself)."""
    path = weights_path(name)
    if not os.path.exists(path):
        raise BackboneUnavailable(f"No trained embedder '{name}' (expected {path}).")
    stored = torch.load(path, map_location="cpu", weights_only=True)
    base = get_backbone(stored["base"], pretrained=pretrained)
    backbone = build_projected(base, stored["projection_dim"], name, file_version(name, path),
                               stored.get("description", f"trained from {stored['base']}"), stored.get("input_size"),
                               stored.get("trained_on", ()))
    if "trained_on" not in stored:  # trained before weights files kept a record
        backbone.weights = replace(backbone.weights, meta=backbone.weights.meta | {"unrecorded_training": True})
    if pretrained:
        load_trained_state(backbone.trunk, stored["state_dict"], path, stored["base"])
    return backbone


def load_trained_state(module, state_dict, path, base_name):
    """Load the trained tensors of a weights file into `module`, whose other weights stay the
    base model's own (the files hold what training changed, in fp16)."""
    trained = {k: v.float() if v.is_floating_point() else v for k, v in state_dict.items()}
    unexpected = module.load_state_dict(trained, strict=False).unexpected_keys
    if unexpected:
        raise BackboneUnavailable(f"{path} does not fit {base_name}: unexpected {unexpected[:3]}")
