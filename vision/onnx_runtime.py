"""The networks on ONNX Runtime, without PyTorch: sessions (session), the embedder (OnnxEmbedder:
images → L2-normalised embeddings and their feature maps) and the segmenter's input and output
arrays (squeezed, bilinear; vision.segment.OnnxSegmenter does the rest as on PyTorch).

The model files come from vision/training/export_onnx.py: a backbone's trunk with a dynamic batch,
giving the feature map (the class-activation maps need it) and the pooled, normalised embedding,
and carrying in its metadata the weights' version and the preprocessing they were trained with.
Preprocessing is Pillow and NumPy: the shorter side resized to `resize_size` (bilinear, smoothed
when shrinking, as torchvision's Resize with antialias), the centre `crop_size` square, scaled to
[0, 1] and normalised by the weights' mean and std.
"""

import json
import os
import threading
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .model_weights import INT8_SUFFIX, SHIPPED_WEIGHTS_DIR, ModelUnavailable, Weights, weights_dir

# ONNX Runtime's CPU provider is fastest here with a few images a pass (bench/README.md).
CPU_PASS_SIZE = 8
GPU_PASS_SIZE = 32  # as on PyTorch (vision.embedder.PASS_SIZES)
# The execution providers by the name a setting gives them (CATALOG_ONNX_PROVIDER).
PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}


class RuntimeUnavailable(ModelUnavailable):
    """The model file or the execution provider asked for is not on this machine; the message
    says what to do."""


def onnx_dir():
    """Where models exported for ONNX Runtime go: beside the trained weights (VISION_WEIGHTS_DIR)."""
    return os.path.join(weights_dir(), "onnx")


def onnx_path(name, directory=None):
    """The model file of `name` in `directory` (CATALOG_ONNX_DIR), or without one beside the
    trained weights (onnx_dir()), when it is there; else the shipped one, when there is one (the
    frozen ImageNet backbones and the segmenter are shipped only; vision.runtimes refuses a file,
    shipped or not, whose version is not that of the weights of its name beside it); else where it
    should be. A command's --onnx-dir that must hold the file checks it is there itself."""
    wanted = os.path.join(directory or onnx_dir(), f"{name}.onnx")
    shipped = os.path.join(SHIPPED_WEIGHTS_DIR, "onnx", f"{name}.onnx")
    return shipped if not os.path.exists(wanted) and os.path.exists(shipped) else wanted


# How a missing model file is made: on a machine with the training requirements (PyTorch), then
# copied where the worker reads it.
EXPORT_HINT = "python -m vision.training.export_onnx {name} --out-dir {directory}"
SEGMENTER_EXPORT_HINT = "python -m vision.training.export_onnx --segmenters {name} --out-dir {directory}"


def session(path, threads=None, provider="cpu", export_hint=EXPORT_HINT):
    """An ONNX Runtime session of the model file, graph optimisations on; RuntimeUnavailable says
    what to do when the file or the execution provider is missing."""
    import onnxruntime

    if not os.path.exists(path):
        name = os.path.basename(path)[:-5]
        command = export_hint.format(name=name.removesuffix(INT8_SUFFIX), directory=os.path.dirname(path)) + (
            " --int8 REFERENCE_PHOTOS_TREE" if name.endswith(INT8_SUFFIX) else "")
        raise RuntimeUnavailable(f"There is no ONNX model at {path}. Make it where PyTorch is installed "
                                 f"(requirements/training.txt) with `{command}`, and copy it there.")
    if PROVIDERS[provider] not in onnxruntime.get_available_providers():
        raise RuntimeUnavailable(f"ONNX Runtime here has no {PROVIDERS[provider]} (it has "
                                 f"{', '.join(onnxruntime.get_available_providers())}); install onnxruntime-gpu "
                                 "for CUDA, or use CATALOG_ONNX_PROVIDER=cpu.")
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Memory patterns plan one set of buffers per input shape and keep them, and each session's
    # own arena grows by powers of two and never gives back: the worker's passes vary in size
    # (items a photo, photos a pass). So the sessions share one arena that grows by what is
    # asked. The worker's path with `grocery` then peaked at 650 / 830 MB at 1 / 8 photos a pass,
    # against 730 / 1,070 MB, as fast; with no arena at all, as small but 10 % slower at 8.
    options.enable_mem_pattern = False
    if provider == "cpu":
        options.add_session_config_entry("session.use_env_allocators", "1")
        _share_one_cpu_arena(onnxruntime)
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), options, providers=[PROVIDERS[provider]])


def model_version(path):
    """The version the model file at `path` records, read without readying the model to run (no
    graph optimisations: a fifth of a session's start)."""
    return _model_props(path).get("version")


def model_kind(path):
    """What finds items in the segmenter file at `path`: "detector" (vision.detect) or "unet"
    (vision.segment, and files from before detectors, which do not say); None when it is missing."""
    return _model_props(path).get("kind", "unet") if os.path.exists(path) else None


def _model_props(path):
    """The metadata the model file at `path` records, read without readying the model to run."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    model = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return model.get_modelmeta().custom_metadata_map


_arena_lock = threading.Lock()
_arena_shared = False


def _share_one_cpu_arena(onnxruntime):
    """Register, once a process, the CPU arena the sessions share: it grows by what is asked
    (kSameAsRequested), not by powers of two."""
    global _arena_shared
    with _arena_lock:
        if not _arena_shared:
            same_as_requested = 1
            onnxruntime.create_and_register_allocator(
                onnxruntime.OrtMemoryInfo("Cpu", onnxruntime.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0,
                                          onnxruntime.OrtMemType.DEFAULT),
                onnxruntime.OrtArenaCfg(0, same_as_requested, -1, -1))
            _arena_shared = True


@dataclass(frozen=True)
class OnnxWeights(Weights):
    """The weights' description as the model file gives it (export_onnx writes it), and its opset."""

    opset: int = 0

    @classmethod
    def of_session(cls, session):
        props = session.get_modelmeta().custom_metadata_map
        return cls(name=props["name"], version=props["version"], feature_dim=int(props["feature_dim"]),
                   resize_size=int(props["resize_size"]), crop_size=int(props["crop_size"]),
                   mean=tuple(json.loads(props["mean"])), std=tuple(json.loads(props["std"])),
                   opset=int(props["opset"]), source=props.get("source", ""),
                   meta=json.loads(props.get("meta", "{}")),
                   trained_on=frozenset(json.loads(props.get("trained_on", "[]"))))


def preprocess(images, weights):
    """(B, 3, crop, crop) float32 of RGB PIL images, as the weights were trained to see them."""
    std = np.asarray(weights.std, np.float32)
    # (x / 255 - mean) / std as one multiply and one subtraction, in place: the CPU side of a
    # photo is what ONNX Runtime leaves it waiting on.
    scale, shift = (1 / (255 * std))[:, None, None], (np.asarray(weights.mean, np.float32) / std)[:, None, None]
    batch = np.empty((len(images), 3, weights.crop_size, weights.crop_size), np.float32)
    for one, image in zip(batch, images):
        np.multiply(np.asarray(_resized_crop(image, weights)).transpose(2, 0, 1), scale, out=one)
        one -= shift
    return batch


def _resized_crop(image, weights):
    # Resizing only the part kept (Pillow's box) was 1 ms faster but moved some pixels of small
    # crops by a level, and auto-accept decisions on Grocery val further from PyTorch's (3 of 296
    # differed, against 1): the whole image is resized, then cropped, as torchvision does.
    width, height, short = *image.size, weights.resize_size
    # torchvision's rule for the longer side: truncated, not rounded.
    size = (short, int(short * height / width)) if width <= height else (int(short * width / height), short)
    resized = _rgb(image).resize(size, Image.BILINEAR, reducing_gap=None)
    left = int(round((size[0] - weights.crop_size) / 2.0))
    top = int(round((size[1] - weights.crop_size) / 2.0))
    return resized.crop((left, top, left + weights.crop_size, top + weights.crop_size))


def _rgb(image):
    return image if image.mode == "RGB" else image.convert("RGB")


@dataclass
class OnnxEmbeddingBatch:
    embeddings: np.ndarray  # (B, D) float32, unit length
    feature_maps: np.ndarray  # (B, C, H, W) float32


class OnnxEmbedder:
    """The Embedder's interface (forward, embed, weights, dimension) on an ONNX Runtime session."""

    runtime = "onnxruntime"

    def __init__(self, path, threads=None, provider="cpu", batch_size=None):
        self._session = session(path, threads, provider)
        self.weights = OnnxWeights.of_session(self._session)
        self.batch_size = batch_size or (CPU_PASS_SIZE if provider == "cpu" else GPU_PASS_SIZE)

    @property
    def dimension(self):
        return self.weights.feature_dim

    def forward(self, images):
        """Embeddings and feature maps of a list of RGB PIL images, `batch_size` to a pass."""
        passes = [self._pass(images[start:start + self.batch_size])
                  for start in range(0, len(images), self.batch_size)]
        return OnnxEmbeddingBatch(np.concatenate([one.embeddings for one in passes]),
                                  np.concatenate([one.feature_maps for one in passes]))

    def embed(self, images):
        if not images:
            return np.zeros((0, self.dimension), np.float32)
        return self.forward(images).embeddings

    def _pass(self, images):
        feature_maps, embeddings = self._session.run(["feature_map", "embedding"],
                                                     {"images": preprocess(images, self.weights)})
        return OnnxEmbeddingBatch(embeddings, feature_maps)


def squeezed(image, side):
    """(3, side, side) float32 in [-1, 1]: the whole photo squeezed to a square, as the segmenter
    was trained to see it (vision.unet.input_transform)."""
    resized = _rgb(image).resize((side, side), Image.BILINEAR, reducing_gap=None)
    return (np.asarray(resized, np.float32).transpose(2, 0, 1) / 255.0 - 0.5) / 0.5


def bilinear(maps, size):
    """(C, h, w) float32 maps resized to `size` (H, W) as torch's bilinear interpolation with
    align_corners=False resizes them (pixel centres aligned, edges clamped): OpenCV's linear
    resize follows the same rule, to 5e-7, a twentieth of the time NumPy took."""
    import cv2

    return np.stack([cv2.resize(one, (size[1], size[0]), interpolation=cv2.INTER_LINEAR) for one in maps])
