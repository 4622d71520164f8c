"""Several embedders as one backbone, named by vision/weights/NAME.json.

    {"members": ["grocery_lite0", "grocery_lite0_full"], "weights": [1, 1], "input_size": 288,
     "description": "..."}

Each member sees the same photo once (they must agree on normalisation, and on input size
unless the file sets it); "input_size" (optional) has them all see it at that many pixels instead
of their own size: a
network trained on smaller crops sees an object at the scale it learnt when the whole photo is
shown larger ("FixRes"), at the cost of more pixels per photo. The
ensemble's feature map is the members' maps side by side, each scaled so that its pooled
embedding has length sqrt(weight): the ensemble's pooled, normalised embedding is then the
members' normalised embeddings concatenated, and a cosine similarity between two of them is the
weighted mean of the members' similarities. The class-activation map needs nothing else: the
head reads the same channels the embedding is pooled from.

A name is only a file, so a stable name (`grocery`: the best shipped Grocery embedder) can be an
ensemble of one, and names the best members whatever they become; the members keep their own
names. The version changes whenever the file or any member's weights do.
"""

import json
import math
import os

import torch
from torch import nn

from ..model_weights import ensemble_version
from ._api import Backbone, BackboneUnavailable, Weights
from .finetuned import names_in_weights_dir, weights_dir


class EnsembleTrunk(nn.Module):
    def __init__(self, members, weights):
        super().__init__()
        self.members = nn.ModuleList(members)
        self.scales = [math.sqrt(w) for w in weights]

    def forward(self, batch):
        maps = []
        for member, scale in zip(self.members, self.scales):
            feature_map = member(batch)
            length = feature_map.mean(dim=(2, 3)).norm(dim=1).clamp_min(1e-12)
            maps.append(feature_map * (scale / length)[:, None, None, None])
        return torch.cat(maps, dim=1)


def ensemble_path(name):
    return os.path.join(weights_dir(), f"{name}.json")


def available():
    return names_in_weights_dir(".json")


def member_names(name):
    """The members `name`'s file lists ([] when it is unreadable: loading it says why)."""
    try:
        with open(ensemble_path(name), "rb") as handle:
            return [m for m in _parse(handle.read(), "")["members"] if m != name]
    except (OSError, BackboneUnavailable):
        return []


# Ensembles being built in this thread of calls: a member that leads back to one is refused.
_loading = set()


def ensemble(name, get_backbone, pretrained=True):
    """The ensemble `name` from vision/weights/NAME.json, its members built by `get_backbone` (the
    registry's, which passes itself: a member may be any backbone it knows)."""
    path = ensemble_path(name)
    with open(path, "rb") as handle:
        text = handle.read()
    spec = _parse(text, path)
    if name in spec["members"] or name in _loading:
        raise BackboneUnavailable(f"{path} lists itself as a member, or a member that lists it.")
    _loading.add(name)
    try:
        members = [get_backbone(member, pretrained=pretrained) for member in spec["members"]]
    finally:
        _loading.discard(name)
    weights = spec.get("weights", [1.0] * len(members))
    if len(weights) != len(members) or any(not isinstance(w, (int, float)) or w <= 0 for w in weights):
        raise BackboneUnavailable(f"{path}: 'weights' must be one positive number per member.")
    return Backbone(EnsembleTrunk(members, weights), _describe(name, text, spec, members, path))


def _parse(text, path):
    try:
        spec = json.loads(text)
    except ValueError as error:
        raise BackboneUnavailable(f"{path} is not valid JSON: {error}") from error
    if not isinstance(spec, dict) or not spec.get("members") or not all(isinstance(m, str) for m in spec["members"]):
        raise BackboneUnavailable(f"{path} must be an object whose 'members' lists backbone names.")
    return spec


def _describe(name, text, spec, members, path):
    first = members[0].weights
    for member in members[1:]:
        seen = member.weights
        # With "input_size" every member sees photos at that size, whatever its own file says (a
        # member trained since saves its serving size, 288 px for 224-px crops, beside older ones).
        same_size = "input_size" in spec or (seen.resize_size, seen.crop_size) == (first.resize_size, first.crop_size)
        if (seen.mean, seen.std) != (first.mean, first.std) or not same_size:
            raise BackboneUnavailable(f"{path}: {seen.name} sees photos unlike {first.name} (size or normalisation); "
                                      "members must share one input, or the file must set \"input_size\".")
    size = spec.get("input_size", first.crop_size)
    if not isinstance(size, int) or isinstance(size, bool) or not 32 <= size <= 1024:
        raise BackboneUnavailable(f"{path}: 'input_size' must be a whole number of pixels from 32 to 1024.")
    meta = {"members": [m.weights.version for m in members]}
    if "fold_predictions" in spec:  # its calibration (vision.fold_predictions)
        if not isinstance(spec["fold_predictions"], str) or not spec["fold_predictions"]:
            raise BackboneUnavailable(f"{path}: 'fold_predictions' must name a file in the weights folder.")
        meta["fold_predictions"] = spec["fold_predictions"]
    if any(m.weights.meta.get("unrecorded_training") for m in members):
        meta["unrecorded_training"] = True
    return Weights(
        name=name,
        version=ensemble_version(name, text, meta["members"]),
        feature_dim=sum(m.weights.feature_dim for m in members),
        resize_size=size if "input_size" in spec else first.resize_size,
        crop_size=size,
        mean=first.mean,
        std=first.std,
        source=spec.get("description", "ensemble of " + ", ".join(spec["members"])),
        meta=meta,
        trained_on=frozenset().union(*(m.weights.trained_on for m in members)),
    )
