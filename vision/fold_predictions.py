"""What fold models said of the photos an embedder trained on: its calibration, when it trained on
every reference.

An index is calibrated on predictions for references its embedder never saw (vision.calibration):
an embedder trained on every labelled photo of its catalogue (the shipped `grocery`) leaves none.
Its fold models (the same recipe, trained without a part of those photos) saw those parts as new
photos, so what they found near each of them, each photo's occasion left out, is a prediction as
honest as the index's own would be for an unseen reference. An embedder's weights name such a
file (meta "fold_predictions", a file in vision/weights made by vision/training/fold_predictions.py);
the calibration then also fits on its trained references that the file covers. The neighbours
are kept by content key, so they are read against the index as it is: a reference that is gone
is skipped, a re-categorized one votes for its category now.
"""

import hashlib
import json
import logging
import os
import zipfile
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from .model_weights import weights_dir

log = logging.getLogger(__name__)


@dataclass
class FoldPredictions:
    queries: np.ndarray  # (n,) uint64: the key_number (vision.content_keys) of each photo a fold model did not train on
    neighbours: np.ndarray  # (n, K) uint64: its nearest photos of other occasions, best first (0: none)
    similarities: np.ndarray  # (n, K) float32: their similarity in that fold model's space
    source: str  # which fold models, on which photos

    def save(self, path):
        np.savez_compressed(path, queries=self.queries, neighbours=self.neighbours,
                            similarities=self.similarities.astype(np.float16),
                            manifest=np.frombuffer(json.dumps({"source": self.source}).encode(), np.uint8))

    @classmethod
    def load(cls, path):
        with np.load(path, allow_pickle=False) as stored:
            manifest = json.loads(stored["manifest"].tobytes())
            return cls(stored["queries"], stored["neighbours"], stored["similarities"].astype(np.float32),
                       manifest["source"])

    def __len__(self):
        return len(self.queries)

    @cached_property
    def digest(self):
        """What a calibration fitted with them records: other fold predictions make it stale."""
        digest = hashlib.sha256()
        for array in (self.queries, self.neighbours, self.similarities.astype(np.float16)):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()[:12]


def of_weights(weights):
    """The FoldPredictions the weights name (None when they name none); a named file that is not
    there is logged, and the index then calibrates on its untrained references alone."""
    name = weights.meta.get("fold_predictions")
    if not name:
        return None
    path = os.path.join(weights_dir(), name)
    try:
        return _loaded(path, os.stat(path).st_mtime_ns)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        log.warning("%s names fold predictions %s that cannot be read (%s): its index is calibrated on the "
                    "references it did not train on alone", weights.name, path, error)
        return None


@lru_cache(maxsize=4)
def _loaded(path, modified):
    """The file read once while it stays the same (`modified`: its modification time); every index
    update asks for it."""
    return FoldPredictions.load(path)
