"""FAISS index of labelled reference embeddings, saved and loaded atomically.

The index, its row labels and its manifest live in one file that is written under a
temporary name and renamed into place, so a reader opens either the old or the new
index, never a half-written one (and a reader already holding the old file keeps it).

A running worker keeps its index current between files: references added or changed since the
file was written are added in memory, and rows they replace are left out of every search
(tombstones) until the next file, which holds no tombstones (worker.indexing).
"""

import json
import time
import uuid

import faiss
import numpy as np

from .calibration import Calibration
from .content_keys import key_number
from .cam import ClassHead
from .files import replaced_atomically
from .vote import Neighbour

# Exact search is fast enough up to here; beyond, HNSW keeps queries sub-linear. The faiss
# guidelines pick HNSW when memory is not the constraint and, unlike IVF, it needs no
# training pass, so references can still be added one at a time.
DEFAULT_APPROXIMATE_FROM = 100_000
HNSW_NEIGHBOURS = 32
HNSW_EF_CONSTRUCTION = 80
# efSearch is raised through these until recall@10 against exact search reaches the target.
HNSW_EF_SEARCH_STEPS = (64, 128, 256, 512, 1024)
TARGET_RECALL_AT_10 = 0.95
RECALL_SAMPLE = 256
# A loaded index keeps room for this many more rows: faiss grows its arrays by copying them whole,
# and the first reference a worker added to a loaded million-row index copied 2 GB (1.3 s here).
ROOM_FOR_CHANGES = 10_000


class IndexMismatch(ValueError):
    """Embeddings do not fit this index (wrong dimension or wrong backbone)."""


class ReferenceIndex:
    def __init__(self, dimension, backbone_name, backbone_version,
                 approximate_from=DEFAULT_APPROXIMATE_FROM):
        self.dimension = dimension
        self.backbone_name = backbone_name
        self.backbone_version = backbone_version
        self.approximate_from = approximate_from
        self.version = None
        self.created_at = None
        # The last reference change (worker.indexing) this index holds: the file's, then what a
        # running worker applied since.
        self.applied_change = 0
        self.recall_at_10 = None  # measured against exact search when the index became approximate,
        self.recall_measured_on = None  # with this many rows
        self.categories = []  # category id → path
        self._category_ids = {}
        self._row_categories = np.zeros(0, np.int32)
        self._row_references = np.zeros(0, np.int64)
        self._row_trained = np.zeros(0, bool)  # whether the backbone was trained on the row's photo
        # The photo's content key as a number (vision.content_keys.key_number; 0: not known): what
        # fold predictions (vision.fold_predictions) find a row by.
        self._row_keys = np.zeros(0, np.uint64)
        # Rows of one group are photos of one occasion (near-duplicates, one listing's photos):
        # calibration leaves a row's whole group out, since a new photo is of a new occasion.
        self._row_groups = np.zeros(0, np.int64)
        self._row_removed = np.zeros(0, bool)
        # What leaves the removed rows out of searches of the embeddings and of the novelty space.
        self._selectors, self._search_parameters, self._novelty_parameters = (), None, None
        self._faiss = faiss.IndexFlatIP(dimension)
        # The same rows in the frozen features of vision.splits.GROUPING_BACKBONE, when this index's
        # backbone is another (an adapted one): "not in the catalogue" is judged there, since an
        # embedder trained on a catalogue maps anything at all close to one of its categories.
        self._novelty = None
        self.head = None  # a vision.cam.ClassHead over these references, for heatmaps
        self.calibration = None  # a vision.calibration.Calibration of this index's answers

    def __len__(self):
        return self._faiss.ntotal

    @property
    def revision(self):
        """The file's version and the last reference change applied to it since: what answered."""
        return f"{self.version}@{self.applied_change}"

    @property
    def is_approximate(self):
        return isinstance(self._faiss, faiss.IndexHNSWFlat)

    def add(self, embeddings, categories, reference_ids, trained=None, groups=None, novelty=None, keys=None):
        """Add unit-length embeddings with their category paths and caller-chosen ids; `trained`
        says which of them the backbone was trained on (none, by default), `keys` their photos'
        content keys (vision.content_keys; none by default), `groups` which were
        photos of one occasion (default: each row its own group, numbered by its reference id),
        `novelty` their frozen grouping-backbone features (for an index of another backbone; then
        every addition needs them)."""
        embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
        if embeddings.ndim != 2 or embeddings.shape[1] != self.dimension:
            raise IndexMismatch(f"Expected embeddings of shape (N, {self.dimension}), got {embeddings.shape}.")
        if not len(embeddings) == len(categories) == len(reference_ids):
            raise ValueError("embeddings, categories and reference_ids must have the same length.")
        self._add_novelty(novelty, len(embeddings))
        rows = np.array([self._category_id(tuple(c)) for c in categories], np.int32)
        self._row_categories = np.concatenate([self._row_categories, rows])
        self._row_references = np.concatenate([self._row_references, np.asarray(reference_ids, np.int64)])
        trained = np.zeros(len(rows), bool) if trained is None else np.asarray(trained, bool)
        self._row_trained = np.concatenate([self._row_trained, trained])
        keys = np.zeros(len(rows), np.uint64) if keys is None else np.array([key_number(k) for k in keys], np.uint64)
        self._row_keys = np.concatenate([self._row_keys, keys])
        groups = np.asarray(reference_ids if groups is None else groups, np.int64)
        self._row_groups = np.concatenate([self._row_groups, groups])
        self._row_removed = np.concatenate([self._row_removed, np.zeros(len(rows), bool)])
        self._faiss.add(embeddings)
        if not self.is_approximate and len(self) >= self.approximate_from:
            self._switch_to_approximate()

    def remove(self, reference_ids):
        """Leave the rows of these references out of every search from now on. The vectors stay
        (neither HNSW graphs nor a cheap flat removal allow otherwise) until the index is built
        again without them."""
        hit = np.isin(self._row_references, np.fromiter(reference_ids, np.int64)) & ~self._row_removed
        if not hit.any():
            return
        self._row_removed = self._row_removed | hit
        self._refresh_search_parameters()

    def _refresh_search_parameters(self):
        if not self._row_removed.any():
            self._selectors, self._search_parameters, self._novelty_parameters = (), None, None
            return
        removed = faiss.IDSelectorBatch(np.flatnonzero(self._row_removed).astype(np.int64))
        # faiss holds raw pointers to these: they live as long as the parameters that use them.
        self._selectors = (removed, faiss.IDSelectorNot(removed))
        self._search_parameters = _parameters(self._faiss, self._selectors)
        self._novelty_parameters = _parameters(self._novelty, self._selectors) if self._novelty is not None else None

    @property
    def outgrew_its_search_setting(self):
        """Whether an approximate index has grown to twice the rows its efSearch was chosen on: a
        larger graph needs a wider search for the same recall, and only a new build measures it."""
        return self.is_approximate and len(self) >= 2 * (self.recall_measured_on or DEFAULT_APPROXIMATE_FROM)

    @property
    def removed_count(self):
        return int(self._row_removed.sum())

    def held_paths(self, reference_ids):
        """{reference id: category path} of the rows of these references still searched."""
        rows = np.flatnonzero(np.isin(self._row_references, np.fromiter(reference_ids, np.int64))
                              & ~self._row_removed)
        return {int(self._row_references[row]): self.categories[self._row_categories[row]] for row in rows}

    def _add_novelty(self, novelty, count):
        if novelty is None:
            if self._novelty is not None:
                raise ValueError("This index keeps novelty features: give them for every addition.")
            return
        novelty = np.ascontiguousarray(novelty, dtype=np.float32)
        if len(novelty) != count:
            raise ValueError("novelty must have a row per embedding.")
        if self._novelty is None:
            if len(self):
                raise ValueError("Novelty features must be given from the first addition on.")
            self._novelty = faiss.IndexFlatIP(novelty.shape[1])
        self._novelty.add(novelty)

    @property
    def has_novelty_space(self):
        return self._novelty is not None

    def novelty_search(self, queries, k):
        """(similarities, rows) of the k nearest rows in the novelty space (this index's own
        embeddings when it keeps no separate one)."""
        if self._novelty is None:
            return self._search_rows(queries, k)
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        return self._novelty.search(queries, min(k, len(self)), params=self._novelty_parameters)

    def novelty_vectors(self):
        """The vectors "not in the catalogue" is judged on, in row order."""
        space = self._novelty if self._novelty is not None else self._faiss
        return space.reconstruct_n(0, len(self))

    def search(self, queries, k):
        """The k most similar references of each query, best first."""
        if len(self) == 0:
            return [[] for _ in queries]
        similarities, rows = self._search_rows(queries, k)
        return [self._neighbours(s, r) for s, r in zip(similarities, rows)]

    def _search_rows(self, queries, k):
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        return self._faiss.search(queries, min(k, len(self)), params=self._search_parameters)

    def labelled_vectors(self):
        """(every stored embedding, its category id), in row order."""
        return self._faiss.reconstruct_n(0, len(self)), self._row_categories.copy()

    def trained_rows(self):
        """Per row, in row order: whether the backbone was trained on that reference's photo."""
        return self._row_trained.copy()

    def row_labels(self):
        """The category id (an index into `categories`) of every row, in row order."""
        return self._row_categories.copy()

    def row_keys(self):
        """The content key number of every row's photo (0 where not known), in row order."""
        return self._row_keys.copy()

    def searched_rows(self):
        """Per row, in row order: whether searches still find it (it was not removed since the file)."""
        return ~self._row_removed

    def row_groups(self):
        """The group of every row, in row order."""
        return self._row_groups.copy()

    def reference_ids(self):
        """The reference id of every row, in row order."""
        return self._row_references.copy()

    def entries(self):
        """{reference id: category path} of every row still searched."""
        kept = ~self._row_removed
        return {int(r): self.categories[c] for r, c in zip(self._row_references[kept], self._row_categories[kept])}

    def _neighbours(self, similarities, rows):
        return [
            Neighbour(int(self._row_references[row]), self.categories[self._row_categories[row]], float(sim))
            for sim, row in zip(similarities, rows) if row >= 0
        ]

    def _category_id(self, path):
        if path not in self._category_ids:
            self._category_ids[path] = len(self.categories)
            self.categories.append(path)
        return self._category_ids[path]

    def _switch_to_approximate(self):
        """HNSW graphs instead of exact search, for the embeddings and the novelty space alike
        (judging novelty searches every row too)."""
        self._faiss, self.recall_at_10 = _approximate(self._faiss)
        self.recall_measured_on = len(self)
        if self._novelty is not None:
            self._novelty = _approximate(self._novelty)[0]
        self._refresh_search_parameters()

    def manifest(self):
        return {
            "format": 1,
            "version": self.version,
            "created_at": self.created_at,
            "applied_change": self.applied_change,
            "backbone": self.backbone_name,
            "backbone_version": self.backbone_version,
            "dimension": self.dimension,
            "count": len(self),
            "kind": "hnsw" if self.is_approximate else "flat",
            "approximate_from": self.approximate_from,
            "ef_search": self._faiss.hnsw.efSearch if self.is_approximate else None,
            "recall_at_10": self.recall_at_10,
            "recall_measured_on": self.recall_measured_on,
            "categories": [list(path) for path in self.categories],
            "head_trained_on": self.head.trained_on if self.head else None,
            "trained_rows": int(self._row_trained.sum()),
            "novelty_space": self._novelty is not None,
            "calibration": self.calibration.manifest() if self.calibration else None,
        }

    def save(self, path):
        """Write atomically; return the new version string."""
        if self._row_removed.any():
            raise ValueError("An index with removed rows is a worker's copy: build the file from the references.")
        self.version = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        self.created_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        head = {"head_weights": self.head.weights, "head_bias": self.head.bias} if self.head else {}
        calibration = self.calibration.arrays() if self.calibration else {}
        novelty = {"novelty_faiss": faiss.serialize_index(self._novelty)} if self._novelty is not None else {}
        with replaced_atomically(path) as tmp:
            np.savez(
                tmp,
                manifest=np.frombuffer(json.dumps(self.manifest()).encode(), np.uint8),
                faiss=faiss.serialize_index(self._faiss),
                row_categories=self._row_categories,
                row_references=self._row_references,
                row_trained=self._row_trained,
                row_keys=self._row_keys,
                row_groups=self._row_groups,
                **head,
                **calibration,
                **novelty,
            )
        return self.version

    @classmethod
    def load(cls, path):
        with np.load(path, allow_pickle=False) as stored:
            manifest = _decode_manifest(stored)
            index = cls(manifest["dimension"], manifest["backbone"], manifest["backbone_version"],
                        manifest["approximate_from"])
            index._faiss = faiss.deserialize_index(stored["faiss"])
            index._row_categories = stored["row_categories"]
            index._row_references = stored["row_references"]
            # Files saved before rows recorded training count as untrained: the index is then
            # calibrated as if every reference were new to the backbone.
            index._row_trained = stored["row_trained"] if "row_trained" in stored else \
                np.zeros(len(index._row_references), bool)
            index._row_keys = stored["row_keys"] if "row_keys" in stored else \
                np.zeros(len(index._row_references), np.uint64)
            index._row_groups = stored["row_groups"] if "row_groups" in stored else index._row_references.copy()
            index._row_removed = np.zeros(len(index._row_references), bool)
            if "novelty_faiss" in stored:
                index._novelty = faiss.deserialize_index(stored["novelty_faiss"])
            if manifest.get("head_trained_on"):
                index.head = ClassHead(stored["head_weights"], stored["head_bias"], manifest["head_trained_on"])
            if manifest.get("calibration"):
                index.calibration = Calibration.from_stored(manifest["calibration"], stored)
        if index.is_approximate:
            index._faiss.hnsw.efSearch = manifest["ef_search"]
        for space in (index._faiss, index._novelty):
            if space is not None:
                _make_room(space, ROOM_FOR_CHANGES)
        index.version, index.created_at = manifest["version"], manifest["created_at"]
        index.recall_at_10 = manifest["recall_at_10"]
        index.recall_measured_on = manifest.get("recall_measured_on")
        index.applied_change = manifest.get("applied_change", 0)
        index.categories = [tuple(p) for p in manifest["categories"]]
        index._category_ids = {p: i for i, p in enumerate(index.categories)}
        return index


def _parameters(space, selectors):
    """Search parameters that leave the removed rows out (`selectors`: (removed, kept)), or None."""
    if not selectors:
        return None
    if isinstance(space, faiss.IndexHNSW):
        return faiss.SearchParametersHNSW(sel=selectors[1], efSearch=space.hnsw.efSearch)
    return faiss.SearchParameters(sel=selectors[1])


def _approximate(flat):
    """(an HNSW graph of the flat index's vectors with its efSearch calibrated, its recall@10)."""
    vectors = flat.reconstruct_n(0, flat.ntotal)
    ef_search, recall = _calibrate_ef_search(vectors)
    hnsw = _new_hnsw(vectors.shape[1])
    hnsw.add(vectors)
    hnsw.hnsw.efSearch = ef_search
    return hnsw, recall


def _new_hnsw(dimension):
    hnsw = faiss.IndexHNSWFlat(dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    return hnsw


def _calibrate_ef_search(vectors):
    """The smallest efSearch whose recall@10 against exact search reaches the target, and that recall.

    A sample is held out of a trial graph and used as queries: like a new photo, it is not a
    node of the graph (a stored vector, linked straight to its neighbours, is an easy query).
    """
    rng = np.random.default_rng(0)
    held_out = rng.choice(len(vectors), min(RECALL_SAMPLE, len(vectors) // 10), replace=False)
    base, queries = np.delete(vectors, held_out, axis=0), vectors[held_out]
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(base)
    truth = exact.search(queries, 10)[1]
    trial = _new_hnsw(vectors.shape[1])
    trial.add(base)
    for ef_search in HNSW_EF_SEARCH_STEPS:
        trial.hnsw.efSearch = ef_search
        recall = recall_at_10(truth, trial.search(queries, 10)[1])
        if recall >= TARGET_RECALL_AT_10:
            break
    return ef_search, recall


def recall_at_10(truth, found):
    """The mean share of each query's 10 true nearest rows (or ids) among the 10 found."""
    return float(np.mean([len(set(t) & set(f)) / 10 for t, f in zip(np.asarray(truth).tolist(), found)]))


def _make_room(space, rows):
    """Grow the capacity of the faiss index's growing arrays by `rows` rows, now, at load time."""
    arrays = [faiss.downcast_index(space.storage).codes, space.hnsw.neighbors] if isinstance(space, faiss.IndexHNSW) \
        else [space.codes]
    for array in arrays:
        used = array.size()
        array.resize(used + rows * (used // max(space.ntotal, 1) + 1))
        array.resize(used)


def read_manifest(path):
    """The manifest alone, without reading the vectors: a cheap way to see the version."""
    with np.load(path, allow_pickle=False) as stored:
        return _decode_manifest(stored)


def _decode_manifest(stored):
    return json.loads(stored["manifest"].tobytes().decode())
