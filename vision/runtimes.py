"""The runtime the networks run on, picked by name: ONNX Runtime ("onnx", the default: all that a
serving worker or an evaluation needs, from the files in vision/weights/onnx that
vision/training/export_onnx.py makes) or PyTorch ("torch": training needs it, and an evaluation
can ask for it to compare). Either gives an embedder (forward, embed, weights, dimension,
batch_size) and a segmenter (vision.segment.Segmenter) by the model's name. PyTorch is imported
only when it is asked for, so that serving runs where it is not installed.
"""

import json
import os

from .detect import OnnxDetector, with_foreground
from .model_weights import (GENERIC_BACKBONES, INT8_SUFFIX, INT8_VERSION_SUFFIX, SHIPPED_WEIGHTS_DIR, ensemble_version,
                            file_version, weights_dir)
from .onnx_runtime import (EXPORT_HINT, SEGMENTER_EXPORT_HINT, OnnxEmbedder, RuntimeUnavailable, model_kind,
                           model_version, onnx_path)
from .onnx_runtime import onnx_dir as onnx_dir_default
from .segment import UNET_SEGMENTER, OnnxSegmenter

RUNTIMES = ("onnx", "torch")
DEFAULT_RUNTIME = "onnx"


def load_embedder(name, runtime=DEFAULT_RUNTIME, onnx_dir=None, provider="cpu", device=None, batch_size=None,
                  threads=None):
    """The embedder `name` on `runtime`: vision.onnx_runtime.RuntimeUnavailable when its ONNX file
    (in `onnx_dir`, default: vision.onnx_runtime.onnx_path's) or provider is missing,
    vision.backbones.BackboneUnavailable when PyTorch cannot build it."""
    if runtime == "onnx":
        if not is_known(name, onnx_dir):
            raise RuntimeUnavailable(f"Unknown model '{name}': there are no weights and no ONNX file of that name "
                                     f"here (ONNX files: {', '.join(_onnx_names(onnx_dir)) or 'none'}).")
        path = onnx_path(name, onnx_dir)
        embedder = OnnxEmbedder(path, threads=threads, provider=provider, batch_size=batch_size)
        _check_float_file(embedder.weights.version, name, path, onnx_dir, _embedder_version(
            name, embedder.weights.meta.get("members")))
        return _of_current_weights(embedder, embedder.weights.version, name, path, onnx_dir)
    from .backbones import get_backbone
    from .embedder import Embedder

    return Embedder(get_backbone(name), device=device, batch_size=batch_size)


def load_segmenter(name, runtime=DEFAULT_RUNTIME, onnx_dir=None, provider="cpu", device=None, threads=None):
    """The trained segmenter `name` on `runtime` (errors as load_embedder's)."""
    if runtime == "onnx":
        path = onnx_path(name, onnx_dir)
        if model_kind(path) == "detector":
            detector = OnnxDetector(path, threads=threads, provider=provider)
            _check_float_file(detector.version, name, path, onnx_dir, _segmenter_version(name), SEGMENTER_EXPORT_HINT)
            detector = _of_current_weights(detector, detector.version, name, path, onnx_dir)
            return with_foreground(detector, load_segmenter(served_unet(runtime), runtime, onnx_dir, provider,
                                                            threads=threads))
        segmenter = OnnxSegmenter(path, threads=threads, provider=provider)
        _check_float_file(segmenter.version, name, path, onnx_dir, _segmenter_version(name), SEGMENTER_EXPORT_HINT)
        return _of_current_weights(segmenter, segmenter.version, name, path, onnx_dir)
    from .unet import load_segmenter as load_on_torch

    return load_on_torch(name, device=device)


def served_unet(runtime=DEFAULT_RUNTIME):
    """The shipped UNet as a worker on `runtime` served it before the detector: int8 on ONNX Runtime.
    The detector's foreground comes from it (vision.detect.with_foreground)."""
    return UNET_SEGMENTER + INT8_SUFFIX if runtime == "onnx" else UNET_SEGMENTER


def _of_current_weights(model, version, name, int8_path, onnx_dir):
    """`model` (`name`, loaded from `int8_path`), unless it is a model quantized to int8 from other
    weights than its float model's file now holds: retraining exports the float file again, not
    the int8 one, which would go on serving the old weights unseen (the shipped int8 file is found
    when none lies beside them).
    The versions are read only when the two files may differ: not for the shipped pair (a test
    holds them together), nor for a pair made together (export_onnx writes the float file first)."""
    if not name.endswith(INT8_SUFFIX):
        return model
    float_path = onnx_path(name.removesuffix(INT8_SUFFIX), onnx_dir)
    if not os.path.exists(float_path):
        return model
    together = os.path.dirname(int8_path) == os.path.dirname(float_path) and (
        os.path.dirname(float_path) == os.path.join(SHIPPED_WEIGHTS_DIR, "onnx")
        or os.path.getmtime(float_path) <= os.path.getmtime(int8_path))
    if not together:
        current = model_version(float_path)
        if current and version != current + INT8_VERSION_SUFFIX:
            raise RuntimeUnavailable(
                f"'{name}' ({version}) was quantized from other weights than '{name.removesuffix(INT8_SUFFIX)}' "
                f"now holds ({current}), or by an earlier recipe: make it again, where PyTorch is installed, "
                f"with `python -m vision.training.export_onnx ... --int8 REFERENCE_PHOTOS_TREE --out-dir "
                f"{os.path.dirname(float_path)}`.")
    return model


def _check_float_file(version, name, path, onnx_dir, current, export_hint=EXPORT_HINT):
    """Refuse the float model file at `path` (`name`, of weights `version`) when the trained weights
    of that name here are `current`, another version. Weights saved without being exported
    (train_embedder --no-onnx deletes the file beside them), or an ensemble's member retrained,
    would otherwise be measured and served by the old file, or by the shipped file of that name
    (onnx_path falls back to it), unseen. `current` is None where no weights of that name are here."""
    if current is None or version == current:
        return
    command = export_hint.format(name=name, directory=onnx_dir or onnx_dir_default())
    raise RuntimeUnavailable(f"{path} holds '{name}' as {version}, not the weights of that name in {weights_dir()} "
                             f"({current}): export them again, where PyTorch is installed, with `{command}`.")


def _segmenter_version(name):
    """The version of the trained segmenter `name` here (vision.unet.load_segmenter's: its file's
    hash), or None where it is not here."""
    path = os.path.join(weights_dir(), "segmenters", f"{name}.pt")
    return file_version(name, path) if os.path.exists(path) else None


def _embedder_version(name, recorded_members):
    """The version vision.backbones gives the embedder `name` from the weights here (its .pt file,
    or its ensemble .json), read without PyTorch, or None where there are none (a frozen ImageNet
    backbone, weights not here). An ensemble's members are taken at the versions its model file
    records (`recorded_members`), but those whose .pt file is here, whose own version is read; one
    that is an ensemble itself is taken as recorded."""
    if name in GENERIC_BACKBONES:
        return None
    path = os.path.join(weights_dir(), name)
    if os.path.exists(path + ".pt"):
        return file_version(name, path + ".pt")
    if not os.path.exists(path + ".json") or not recorded_members:
        return None
    with open(path + ".json", "rb") as handle:
        text = handle.read()
    try:
        members = json.loads(text)["members"]
    except (ValueError, KeyError, TypeError):
        return None  # PyTorch says what is wrong with it
    if len(members) != len(recorded_members):
        return ensemble_version(name, text, recorded_members)  # the file changed: another version anyway
    return ensemble_version(name, text, [
        file_version(member, os.path.join(weights_dir(), member + ".pt"))
        if member not in GENERIC_BACKBONES and os.path.exists(os.path.join(weights_dir(), member + ".pt"))
        else recorded for member, recorded in zip(members, recorded_members)])


def is_known(name, onnx_dir=None):
    """Whether this install has the model `name` on either runtime: a generic backbone, trained
    weights or an ensemble of them (vision/weights), or an exported file."""
    return (name in GENERIC_BACKBONES or os.path.exists(onnx_path(name, onnx_dir))
            or any(os.path.exists(os.path.join(weights_dir(), name + kind)) for kind in (".pt", ".json")))


def _onnx_names(onnx_dir):
    names = set()
    for directory in filter(None, (onnx_dir, onnx_dir_default(), os.path.join(SHIPPED_WEIGHTS_DIR, "onnx"))):
        if os.path.isdir(directory):
            names.update(name[:-5] for name in os.listdir(directory) if name.endswith(".onnx"))
    return sorted(names)
