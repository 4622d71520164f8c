"""The segmenter's network on PyTorch: a UNet over the pretrained EfficientNet-Lite0 encoder
(vision.segment says what its two maps are and makes items of them), the trained ones loaded
from vision/weights/segmenters. Serving runs the same network exported for ONNX Runtime
(vision.segment.OnnxSegmenter), without PyTorch.
"""

import os

import torch
import torch.nn.functional as F
from torch import nn

from .backbones import BackboneUnavailable, get_backbone
from .backbones.finetuned import load_trained_state
from .detect import with_foreground
from .encoder import DEFAULT_ENCODER, Encoder, input_transform
from .model_weights import INT8_SUFFIX, SHIPPED_WEIGHTS_DIR, file_version, weights_dir
from .segment import DEFAULT_SEGMENTER, UNET_SEGMENTER, PostProcessing, Segmenter, working_size


class UpBlock(nn.Module):
    def __init__(self, in_channels, skip_channels, out_channels):
        super().__init__()
        self.convs = nn.Sequential(
            nn.Conv2d(in_channels + skip_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, x, skip):
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.convs(torch.cat([x, skip], dim=1))


class UNet(nn.Module):
    """Outputs (B, 2, H, W) logits: foreground, and distance to the item's edge (1 at its centre)."""

    def __init__(self, trunk, decoder_channels=(96, 64, 48, 32)):
        super().__init__()
        self.encoder = Encoder(trunk)
        in_channels, blocks = self.encoder.channels[-1], []
        for skip_channels, out_channels in zip(reversed(self.encoder.channels[:-1]), decoder_channels):
            blocks.append(UpBlock(in_channels, skip_channels, out_channels))
            in_channels = out_channels
        self.decoder = nn.ModuleList(blocks)
        self.head = nn.Conv2d(in_channels, 2, kernel_size=1)

    def forward(self, batch):
        *skips, x = self.encoder(batch)
        for block, skip in zip(self.decoder, reversed(skips)):
            x = block(x, skip)
        return F.interpolate(self.head(x), size=batch.shape[-2:], mode="bilinear", align_corners=False)


def unet(encoder=DEFAULT_ENCODER, pretrained=True):
    return UNet(get_backbone(encoder, pretrained=pretrained).trunk)


def segmenter_path(name):
    return os.path.join(weights_dir(), "segmenters", f"{name}.pt")


class TorchSegmenter(Segmenter):
    runtime = "torch"

    def __init__(self, model, version, input_size, device=None, settings=PostProcessing(), encoder=None):
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model = model.to(self.device).eval()
        self.version = version
        self.input_size = input_size
        self.settings = settings
        self.encoder_name = encoder  # what a run that continues it must build (vision.training)
        self.threads = torch.get_num_threads()
        self._transform = input_transform(input_size)

    @torch.inference_mode()
    def predict_many(self, images, sizes=None):
        sizes = [size or working_size(image) for image, size in zip(images, sizes or [None] * len(images))]
        logits = self.model(torch.stack([self._transform(image) for image in images]).to(self.device)).float()
        return [tuple(torch.sigmoid(F.interpolate(one[None], size=size, mode="bilinear", align_corners=False))[0]
                      .cpu().numpy())
                for one, size in zip(logits, sizes)]


def load_segmenter(name=DEFAULT_SEGMENTER, device=None):
    """The trained segmenter vision/weights/segmenters/NAME.pt (a UNet, or a product detector:
    vision.detector_net, with the UNet's foreground: vision.detect.with_foreground); its version is
    the file's hash."""
    path = segmenter_path(name)
    if not os.path.exists(path) and name.endswith(INT8_SUFFIX):
        raise BackboneUnavailable(f"'{name}' is quantized to int8 and runs on ONNX Runtime only; on PyTorch use "
                                  f"'{name.removesuffix(INT8_SUFFIX)}'.")
    if not os.path.exists(path):
        raise BackboneUnavailable(f"No trained segmenter '{name}' (expected {path}).")
    return _loaded(name, path, device)


def _loaded(name, path, device):
    stored = torch.load(path, map_location="cpu", weights_only=True)
    if stored.get("kind") == "detector":
        from .detector_net import load_detector

        detector = load_detector(stored, file_version(name, path), path, device)
        return with_foreground(detector, _foreground_segmenter(device))
    model = unet(stored["encoder"])
    load_trained_state(model, stored["state_dict"], path, f"a UNet on {stored['encoder']}")
    return TorchSegmenter(model, file_version(name, path), stored["input_size"], device=device,
                          encoder=stored["encoder"])


def _foreground_segmenter(device):
    """The UNet whose foreground map tells a detector's boxes behind the subject: the one beside
    the weights (VISION_WEIGHTS_DIR), else the shipped one (a folder of newly trained models need
    not hold it)."""
    path = segmenter_path(UNET_SEGMENTER)
    if not os.path.exists(path):
        path = os.path.join(SHIPPED_WEIGHTS_DIR, "segmenters", f"{UNET_SEGMENTER}.pt")
    return _loaded(UNET_SEGMENTER, path, device)
