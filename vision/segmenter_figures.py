"""The figures of a segmenter: foreground quality on image/mask pairs, items found on composites.

Foreground: per-image IoU and F-measure (β² = 0.3, as in the salient-object literature), both
averaged over the images. Composites: an item is found when one predicted box overlaps its box
(vision.boxes.match_boxes); a touching pair is split when both of its items are found.
vision.evaluate_segmentation prints them; segmentation training measures its epochs with them.
"""

import numpy as np

from .boxes import match_boxes
from .composites import load_mask
from .images import load_image

F_BETA_SQUARED = 0.3


def mask_scores(predicted, truth):
    """(IoU, F-measure) of two bool masks; an empty truth predicted empty scores 1."""
    intersection = np.logical_and(predicted, truth).sum()
    union = np.logical_or(predicted, truth).sum()
    if union == 0:
        return 1.0, 1.0
    precision = intersection / max(predicted.sum(), 1)
    recall = intersection / max(truth.sum(), 1)
    denominator = F_BETA_SQUARED * precision + recall
    f_measure = (1 + F_BETA_SQUARED) * precision * recall / denominator if denominator else 0.0
    return float(intersection / union), float(f_measure)


def evaluate_masks(segmenter, pairs):
    scores = []
    for image_path, mask_path in pairs:
        truth = load_mask(mask_path)
        foreground, _ = segmenter.predict(load_image(image_path), size=truth.shape)
        scores.append(mask_scores(foreground >= segmenter.settings.threshold, truth))
    ious, f_measures = zip(*scores) if scores else ((), ())
    return {"mean_iou": _mean(ious), "f_measure": _mean(f_measures), "n_images": len(scores)}


def item_counts(boxes, composite):
    """[found, predicted, true items, touching pairs, touching pairs split] for one composite."""
    matches = match_boxes(boxes, composite.boxes)
    split = sum(i in matches and j in matches for i, j in composite.touching)
    return np.array([len(matches), len(boxes), len(composite.boxes), len(composite.touching), split])


def item_figures(counts):
    found, predicted, truth, pairs, split = (int(c) for c in counts)
    return {
        "item_precision": found / predicted if predicted else 0.0,
        "item_recall": found / truth if truth else 0.0,
        "touching_split_rate": split / pairs if pairs else None,
        "n_items": truth, "n_predicted": predicted, "n_touching_pairs": pairs,
    }


def evaluate_composites(segmenter, generator, count):
    counts = sum((item_counts([item.box for item in segmenter.segment(composite.image)], composite)
                  for composite in map(generator, range(count))), np.zeros(5, int))
    return item_figures(counts) | {"n_composites": count}


def _mean(values):
    return float(np.mean(values)) if len(values) else None
