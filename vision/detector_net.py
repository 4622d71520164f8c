"""The product detector's network on PyTorch (vision.detect says what its maps are and decodes
them): the EfficientNet-Lite0 encoder the UNet uses, a small top-down neck from strides 32 and 16
to 8, and two heads there: a product-centre heat map and the four distances to the box's sides.
Trained by vision/training/train_detector.py, served as ONNX (vision.detect.OnnxDetector).
"""

import torch
import torch.nn.functional as F
from torch import nn

from .backbones import get_backbone
from .detect import Detector, DetectorSettings, heat_and_distances
from .backbones.finetuned import load_trained_state
from .encoder import DEFAULT_ENCODER, Encoder, input_transform

# The heat map's bias starts where a cell is a centre with probability 0.1 (CenterNet, RetinaNet):
# most cells are background, and a zero start would swamp the first steps with their loss.
HEAT_PRIOR_BIAS = -2.19


def _conv(in_channels, out_channels, kernel=3):
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


class ProductDetector(nn.Module):
    """Outputs (B, 5, S/8, S/8): the heat map's logit, then the distances from each cell's centre
    to the left, top, right and bottom sides of its product's box, in DISTANCE_UNITs (raw: the
    ReLU is applied where they are read, vision.detect.heat_and_distances)."""

    def __init__(self, trunk, channels=96):
        super().__init__()
        self.encoder = Encoder(trunk)
        stride8, stride16, stride32 = self.encoder.channels[2:5]
        self.lateral = nn.ModuleList([nn.Conv2d(c, channels, 1) for c in (stride8, stride16, stride32)])
        self.smooth = _conv(channels, channels)
        self.heat = nn.Sequential(_conv(channels, channels), nn.Conv2d(channels, 1, 1))
        self.box = nn.Sequential(_conv(channels, channels), nn.Conv2d(channels, 4, 1))
        nn.init.constant_(self.heat[-1].bias, HEAT_PRIOR_BIAS)

    def forward(self, batch):
        features = self.encoder(batch)
        x = self.lateral[2](features[4])
        for lateral, feature in ((self.lateral[1], features[3]), (self.lateral[0], features[2])):
            x = lateral(feature) + F.interpolate(x, size=feature.shape[-2:], mode="nearest")
        x = self.smooth(x)
        return torch.cat([self.heat(x), self.box(x)], dim=1)


def product_detector(encoder=DEFAULT_ENCODER, pretrained=True):
    return ProductDetector(get_backbone(encoder, pretrained=pretrained).trunk)


class TorchDetector(Detector):
    runtime = "torch"

    def __init__(self, model, version, input_size, device=None, settings=DetectorSettings(), encoder=None):
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model = model.to(self.device).eval()
        self.version, self.input_size, self.settings = version, input_size, settings
        self.encoder_name = encoder  # what a run that continues it must build (vision.training)
        self.threads = torch.get_num_threads()
        self._transform = input_transform(input_size)

    @torch.inference_mode()
    def predict_many(self, images, sizes=None):
        maps = self.model(torch.stack([self._transform(image) for image in images]).to(self.device)).float()
        return [heat_and_distances(one) for one in maps.cpu().numpy()]



def load_detector(stored, version, path, device=None):
    """The TorchDetector of a trained detector's file contents (vision.unet.load_segmenter reads it)."""
    model = product_detector(stored["encoder"], pretrained=False)
    load_trained_state(model, stored["state_dict"], path, f"a product detector on {stored['encoder']}")
    detector = TorchDetector(model, version, stored["input_size"], device,
                             DetectorSettings(score_threshold=stored["score_threshold"]), encoder=stored["encoder"])
    detector.trained_on = frozenset(stored.get("trained_on", ()))
    return detector
