"""Images → L2-normalised embeddings (and the feature maps they came from), in batches."""

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass
class EmbeddingBatch:
    embeddings: np.ndarray  # (B, D) float32, unit length
    feature_maps: torch.Tensor  # (B, C, H, W), kept for class-activation maps


# Images a forward pass takes. A GPU wants large passes to keep busy; on a CPU the small ones are
# the fast ones, their activations staying in cache (grocery_lite0 on the 2-core development VM,
# one thread: 27, 38, 29, 24, 19 and 12.5 images/s at 1, 2, 4, 8, 16 and 32 images a pass).
PASS_SIZES = {"cuda": 32, "cpu": 2}


def pass_size(device):
    """How many images a forward pass on `device` takes by default (PASS_SIZES)."""
    return PASS_SIZES.get(torch.device(device).type, PASS_SIZES["cuda"])


def pool_embeddings(feature_maps):
    """Global average pool, then L2-normalise: cosine similarity becomes an inner product."""
    return F.normalize(feature_maps.mean(dim=(2, 3)), dim=1)


class Embedder:
    runtime = "torch"

    def __init__(self, backbone, device=None, batch_size=None):
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.backbone = backbone.to(self.device).eval()
        self.weights = backbone.weights
        self.batch_size = batch_size or pass_size(self.device)  # images a forward pass
        self._transform = backbone.weights.transforms()

    @property
    def dimension(self):
        return self.weights.feature_dim

    def forward(self, images):
        """Embeddings and feature maps of a list of RGB PIL images, `batch_size` to a pass."""
        if len(images) <= self.batch_size:
            return self._pass(images)
        passes = list(self._passes(images))
        return EmbeddingBatch(embeddings=np.concatenate([one.embeddings for one in passes]),
                              feature_maps=torch.cat([one.feature_maps for one in passes]))

    def embed(self, images):
        """Embeddings only, for any number of images, `batch_size` at a time."""
        chunks = [one.embeddings for one in self._passes(images)]
        return np.concatenate(chunks) if chunks else np.zeros((0, self.dimension), np.float32)

    def _passes(self, images):
        for start in range(0, len(images), self.batch_size):
            yield self._pass(images[start:start + self.batch_size])

    @torch.inference_mode()
    def _pass(self, images):
        batch = torch.stack([self._transform(image) for image in images]).to(self.device)
        feature_maps = self.backbone(batch)
        embeddings = pool_embeddings(feature_maps).float().cpu().numpy()
        return EmbeddingBatch(embeddings=embeddings, feature_maps=feature_maps.cpu())
