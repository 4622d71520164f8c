"""The description of a model's weights: what every runtime needs to use them as they were
trained (vision.backbones builds them on PyTorch; vision.onnx_runtime reads them from a model
file). Torch-free, so that serving on ONNX Runtime needs no PyTorch.
"""

from dataclasses import dataclass, field


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
