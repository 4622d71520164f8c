"""What the networks that see a whole photo share (the UNet segmenter, vision.unet, and the product
detector, vision.detector_net): an EfficientNet trunk giving its feature map at every stride, and
the photo squeezed to the square it sees."""

import torch
from torch import nn
from torchvision.transforms import v2 as T

# The ImageNet trunk a segmenter or detector trained from scratch is built on (the registry's weights).
DEFAULT_ENCODER = "efficientnet_lite0"


class Encoder(nn.Module):
    """An EfficientNet trunk returning the last feature map at every stride (2, 4, 8, 16, 32)."""

    def __init__(self, trunk):
        super().__init__()
        self.trunk = trunk
        with torch.no_grad():
            self.channels = [f.shape[1] for f in self(torch.zeros(1, 3, 64, 64))]

    def forward(self, batch):
        trunk = self.trunk
        x = trunk._swish(trunk._bn0(trunk._conv_stem(batch)))
        features = []
        for block in trunk._blocks:
            y = block(x)
            if y.shape[-1] != x.shape[-1]:
                features.append(x)
            x = y
        return features + [x]


def input_transform(input_size, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)):
    """The whole photo squeezed to a square: items near the edges must stay in view."""
    return T.Compose([
        T.ToImage(),
        T.Resize((input_size, input_size), antialias=True),
        T.ToDtype(torch.float32, scale=True),
        T.Normalize(mean, std),
    ])
