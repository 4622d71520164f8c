"""Images → L2-normalised embeddings (and the feature maps they came from), in batches."""

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass
class EmbeddingBatch:
    embeddings: np.ndarray  # (B, D) float32, unit length
    feature_maps: torch.Tensor  # (B, C, H, W), kept for class-activation maps


def pool_embeddings(feature_maps):
    """Global average pool, then L2-normalise: cosine similarity becomes an inner product."""
    return F.normalize(feature_maps.mean(dim=(2, 3)), dim=1)


class Embedder:
    def __init__(self, backbone, device=None, batch_size=32):
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.backbone = backbone.to(self.device).eval()
        self.weights = backbone.weights
        self.batch_size = batch_size
        self._transform = backbone.weights.transforms()

    @property
    def dimension(self):
        return self.weights.feature_dim

    @torch.inference_mode()
    def forward(self, images):
        """One forward pass over a list of RGB PIL images."""
        batch = torch.stack([self._transform(image) for image in images]).to(self.device)
        feature_maps = self.backbone(batch)
        embeddings = pool_embeddings(feature_maps).float().cpu().numpy()
        return EmbeddingBatch(embeddings=embeddings, feature_maps=feature_maps.cpu())

    def embed(self, images):
        """Embeddings only, for any number of images, `batch_size` at a time."""
        chunks = [
            self.forward(images[start:start + self.batch_size]).embeddings
            for start in range(0, len(images), self.batch_size)
        ]
        return np.concatenate(chunks) if chunks else np.zeros((0, self.dimension), np.float32)
