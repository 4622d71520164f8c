"""Box geometry: (left, top, right, bottom) boxes, their areas and overlaps, the box of a mask,
and the one-to-one matching of found boxes to labelled ones that item figures count.

NumPy only: the segmenter's post-processing, the composites and every measurement of items share
these, none of them needing a model for it.
"""

import numpy as np

# A found box matches a labelled one when they overlap at least this much (IoU).
MATCH_IOU = 0.5


def box_area(box):
    return (box[2] - box[0]) * (box[3] - box[1])


def box_intersection(a, b):
    """The area two (left, top, right, bottom) boxes share."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return max(width, 0) * max(height, 0)


def mask_box(mask):
    """(left, top, right, bottom) of a non-empty bool mask, right and bottom exclusive."""
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return int(columns[0]), int(rows[0]), int(columns[-1]) + 1, int(rows[-1]) + 1


def box_iou(a, b):
    intersection = box_intersection(a, b)
    return intersection / (box_area(a) + box_area(b) - intersection) if intersection else 0.0


def match_boxes(predicted, truth):
    """{truth index: predicted index}, greedily by IoU, one-to-one, IoU ≥ MATCH_IOU."""
    candidates = sorted(((box_iou(p, t), i, j) for i, p in enumerate(predicted) for j, t in enumerate(truth)),
                        reverse=True)
    matches, used = {}, set()
    for iou, i, j in candidates:
        if iou >= MATCH_IOU and i not in used and j not in matches:
            matches[j] = i
            used.add(i)
    return matches
