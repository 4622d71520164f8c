"""Registry of embedding backbones: `get_backbone(name)` and `list_backbones()`."""

from ..model_weights import DEFAULT_BACKBONE, GENERIC_BACKBONES, INT8_SUFFIX
from . import ensemble, finetuned
from ._api import Backbone, BackboneUnavailable, Weights
from .efficientnet_lite import efficientnet_lite0, efficientnet_lite1, efficientnet_lite2
from .resnet import resnet50
from .vgg import vgg16

_BUILDERS = dict(zip(GENERIC_BACKBONES, (efficientnet_lite0, efficientnet_lite1, efficientnet_lite2, resnet50, vgg16)))


def list_backbones():
    """The generic backbones, then the embedders trained on a catalogue (vision/weights/*.pt) and
    the ensembles of them (vision/weights/*.json)."""
    return sorted(_BUILDERS) + finetuned.available() + ensemble.available()


def get_backbone(name=DEFAULT_BACKBONE, pretrained=True):
    """Build a backbone in eval mode; raise BackboneUnavailable if its weights can't be had."""
    if name in _BUILDERS:
        return _BUILDERS[name](pretrained=pretrained).eval()
    if name in finetuned.available():
        return finetuned.finetuned(name, get_backbone, pretrained=pretrained).eval()
    if name in ensemble.available():
        return ensemble.ensemble(name, get_backbone, pretrained=pretrained).eval()
    if name.endswith(INT8_SUFFIX) and name.removesuffix(INT8_SUFFIX) in list_backbones():
        raise BackboneUnavailable(f"'{name}' is quantized to int8 and runs on ONNX Runtime only "
                                  f"(CATALOG_RUNTIME=onnx); on PyTorch use '{name.removesuffix(INT8_SUFFIX)}'.")
    known = ", ".join(list_backbones())
    raise BackboneUnavailable(f"Unknown backbone '{name}'. Known backbones: {known}.")


def backbone_files(name, _within=()):
    """The files in weights_dir() that the backbone `name` is built from (none for a generic
    backbone): a cache of loaded backbones is stale once any of them is replaced."""
    if name in finetuned.available():
        return [finetuned.weights_path(name)]
    if name in ensemble.available() and name not in _within:
        return [ensemble.ensemble_path(name)] + [path for member in ensemble.member_names(name)
                                                 for path in backbone_files(member, _within + (name,))]
    return []


__all__ = [
    "Backbone", "BackboneUnavailable", "Weights", "backbone_files", "get_backbone",
    "list_backbones",
]
