"""An embedder takes many images in passes of its own size, and gives what one pass would."""

import numpy as np
import torch

from tests.photos import grocery_images
from vision.backbones import get_backbone
from vision.embedder import Embedder, pass_size
from vision.images import load_image


def test_images_in_small_passes_get_what_one_pass_gives():
    photos = [load_image(path) for path in grocery_images("val", "Fruit/Banana", 5)]
    backbone = get_backbone("efficientnet_lite0")
    in_passes = Embedder(backbone, device="cpu", batch_size=2).forward(photos)
    at_once = Embedder(backbone, device="cpu", batch_size=8).forward(photos)
    assert in_passes.embeddings.shape == (5, 1280) and in_passes.feature_maps.shape == at_once.feature_maps.shape
    assert np.allclose(in_passes.embeddings, at_once.embeddings, atol=1e-4)
    assert torch.allclose(in_passes.feature_maps, at_once.feature_maps, atol=1e-3)


def test_a_cpu_takes_small_passes_and_a_gpu_large_ones():
    assert Embedder(get_backbone("efficientnet_lite0"), device="cpu").batch_size == pass_size("cpu") < pass_size("cuda")
