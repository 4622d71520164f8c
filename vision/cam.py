"""Class-activation maps (Zhou et al., 2016) from the forward pass that made the embedding.

A linear head over the pooled features scores each category of the index. Pooling is an
average, so a category's score is the average over the feature map of w_c · F(x, y): that
per-position product is the category's activation map, and it costs one matrix product on the
feature map the embedder already computed. The head is trained on the index's own reference
embeddings (seconds on a CPU) and kept in the index file, so it always matches its embedder.
"""

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy.optimize import minimize
from scipy.special import log_softmax

# The head is retrained once the index has grown by this share since it was trained (and
# always when it lacks a category, since a category without a row has no map).
RETRAIN_GROWTH = 0.1
HEAD_STEPS = 100
HEAD_WEIGHT_DECAY = 1e-4
# A stored heatmap overlay is at most this many pixels on its long side.
OVERLAY_SIDE = 512
OVERLAY_OPACITY = 200
# Colour ramp of the overlay, cold to hot: (position, RGB).
_RAMP = ((0.0, (0, 0, 255)), (0.35, (0, 255, 255)), (0.65, (255, 255, 0)), (1.0, (255, 0, 0)))


@dataclass
class ClassHead:
    weights: np.ndarray  # (K, D) float32; row k scores the index's category k
    bias: np.ndarray  # (K,) float32
    trained_on: int  # references in the index when it was trained

    def scores(self, embedding):
        return self.weights @ embedding + self.bias


def train_head(vectors, labels, num_classes, steps=HEAD_STEPS, weight_decay=HEAD_WEIGHT_DECAY):
    """Softmax regression of the category ids `labels` on the reference embeddings `vectors`:
    cross-entropy plus `weight_decay` times the squared weights, minimised by L-BFGS from zero
    (the loss is convex: where it starts only changes how soon it gets there). NumPy and SciPy,
    so that a serving worker without PyTorch can train it."""
    features = np.asarray(vectors, dtype=np.float32)  # as stored: a large index is not copied
    targets = np.asarray(labels, dtype=np.int64)
    count, dimension = features.shape
    one_hot = np.zeros((count, num_classes))
    one_hot[np.arange(count), targets] = 1

    def loss_and_gradient(flat):
        weights, bias = flat[:-num_classes].reshape(num_classes, dimension), flat[-num_classes:]
        log_p = log_softmax(features @ weights.T.astype(np.float32) + bias, axis=1)
        loss = -log_p[np.arange(count), targets].mean() + weight_decay * np.square(weights).sum()
        error = (np.exp(log_p) - one_hot) / count
        weights_gradient = (error.T.astype(np.float32) @ features).astype(np.float64) + 2 * weight_decay * weights
        gradient = np.concatenate([weights_gradient.ravel(), error.sum(axis=0)])
        return loss, gradient

    start = np.zeros(num_classes * (dimension + 1))
    found = minimize(loss_and_gradient, start, jac=True, method="L-BFGS-B", options={"maxiter": steps})
    weights, bias = found.x[:-num_classes].reshape(num_classes, dimension), found.x[-num_classes:]
    return ClassHead(weights.astype(np.float32), bias.astype(np.float32), len(vectors))


def head_is_stale(index):
    """Whether a non-empty index lacks a head, or has one that no longer fits its references."""
    head = index.head
    return len(index) > 0 and (head is None or len(head.weights) < len(index.categories)
                               or len(index) >= head.trained_on * (1 + RETRAIN_GROWTH))


def refresh_head(index):
    """Train the index's head if it is missing or stale; True if it was trained."""
    if not head_is_stale(index):
        return False
    vectors, labels = index.labelled_vectors()
    index.head = train_head(vectors, labels, len(index.categories))
    return True


def explained_category(head, categories, embedding, path):
    """The id of the category whose map explains an assignment to `path`: the head's best
    category at or under `path` (any category when nothing was assigned)."""
    candidates = [i for i, c in enumerate(categories[:len(head.weights)]) if tuple(c[:len(path)]) == tuple(path)]
    scores = head.scores(embedding)
    return max(candidates or range(len(head.weights)), key=lambda i: scores[i])


def activation_map(feature_map, head, category_id):
    """The category's activation over a (C, H, W) feature map (NumPy, or a CPU tensor), scaled to
    [0, 1] (H, W): NumPy, so that it serves either runtime."""
    maps = np.asarray(feature_map, dtype=np.float32)
    activation = np.clip(np.einsum("c,chw->hw", head.weights[category_id].astype(np.float32), maps), 0, None)
    peak = activation.max()
    return activation / peak if peak > 0 else activation


def covered_region(size, resize_size, crop_size):
    """(left, top, right, bottom) of an image of `size` that a resize-then-centre-crop transform
    keeps: the part of the image the feature map, and so the heatmap, describes."""
    width, height = size
    side = min(width, height) * crop_size / resize_size
    left, top = (width - side) / 2, (height - side) / 2
    return round(left), round(top), round(left + side), round(top + side)


def heatmap_overlay(activation, size, region):
    """An RGBA image of `size` (at most OVERLAY_SIDE long): the map, coloured cold to hot and
    as opaque as it is hot, over `region`; transparent elsewhere."""
    scale = min(1.0, OVERLAY_SIDE / max(size))
    overlay = Image.new("RGBA", (max(1, round(size[0] * scale)), max(1, round(size[1] * scale))))
    left, top, right, bottom = (round(v * scale) for v in region)
    heat = Image.fromarray(np.uint8(np.round(activation * 255))).resize(
        (max(1, right - left), max(1, bottom - top)), Image.BICUBIC)
    overlay.paste(_coloured(np.asarray(heat) / 255), (left, top))
    return overlay


def _coloured(values):
    positions = [p for p, _ in _RAMP]
    channels = [np.interp(values, positions, [colour[c] for _, colour in _RAMP]) for c in range(3)]
    alpha = values * OVERLAY_OPACITY
    return Image.fromarray(np.uint8(np.round(np.stack([*channels, alpha], axis=-1))), "RGBA")


def compact(activation):
    """The raw map as small integers (0–255), to store with the item."""
    return np.uint8(np.round(activation * 255)).tolist()
