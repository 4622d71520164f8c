"""Run a reference tree against queries or cross-validation folds, and return the figures.

The measurement vision.evaluate prints and vision.report draws, one code path for both: the
reference photos embedded once (with their occasions, vision.splits), each index calibrated as
the app calibrates it, the queries categorized through the app's own Categorizer, and only
photos the embedder did not train on taken as queries unless allowed (vision.evaluate's help
says what each option measures). The figures are vision.scoring's; benches and the training
script use the pieces (embed_catalogue, make_index, categorize_embedded, ...) on their own.
"""

import argparse
import os
import sys
import time
from dataclasses import dataclass, replace

import numpy as np
from tqdm import tqdm

from .arguments import fraction
from .audits import simulate
from .calibration import DEFAULT_TARGET_PRECISION, refresh_calibration
from .catalogue import CatalogueImage, scan_catalogue
from .categorize import Categorizer
from .content_keys import content_key
from .fold_predictions import of_weights
from .images import is_image_filename, load_image, load_in_batches
from .index import ReferenceIndex
from .model_weights import DEFAULT_BACKBONE, ModelUnavailable
from .runtimes import DEFAULT_RUNTIME, RUNTIMES, load_embedder, load_segmenter
from .scoring import Result, calibration_figures, outside_figures, score
from .segment import DEFAULT_SEGMENTER
from .splits import cv_folds, grouping_embedder, holdout_split, is_grouping_backbone, occasion_groups
from .text import TextProfiles, TextReader, words_read
from .vote import VoteConfig, vote

# The text weight measured best on Grocery's held-out fifth (bench/README.md, issue 16); the app
# does not use text to categorize (it did not pay on val), so --text is off by default.
MEASURED_TEXT_WEIGHT = 16.0


def add_experiment_arguments(parser):
    """`parser` with the options of a measurement (run) added: vision.evaluate's and vision.report's."""
    parser.add_argument("--reference", required=True, nargs="+", metavar="DIR",
                        help="folder tree of labelled reference images; several are one catalogue, as "
                             "import_catalog imports them (a photo in two of them counts once)")
    queries = parser.add_mutually_exclusive_group()
    queries.add_argument("--queries", help="folder tree of labelled query images")
    queries.add_argument("--cv", type=_folds, metavar="K", help="K-fold cross-validation over the reference tree")
    parser.add_argument("--holdout-fraction", type=fraction,
                        help="the queries are the part of the reference tree that the training script holds "
                             "out with this --holdout-fraction (and --split-seed): with --cv, in folds; "
                             "alone, against the rest of the tree")
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--outside", help="photos of things that are not in the catalogue (any folder of images)")
    parser.add_argument("--allow-seen", action="store_true",
                        help="measure even queries the embedder was trained on (the figures say so)")
    parser.add_argument("--backbone", default=DEFAULT_BACKBONE,
                        help="the embedder: on ONNX Runtime, one exported to vision/weights/onnx; on PyTorch, any "
                             "vision.backbones knows")
    parser.add_argument("--runtime", choices=RUNTIMES, default=DEFAULT_RUNTIME,
                        help="what runs the networks: ONNX Runtime, as the worker does, or PyTorch, to compare")
    parser.add_argument("--json", help="also write the figures to this file, and a reliability diagram beside it")
    parser.add_argument("--predictions", help="write one CSV row per query to this file")
    parser.add_argument("--target-precision", type=fraction, default=DEFAULT_TARGET_PRECISION,
                        help="the precision auto-accept aims at")
    parser.add_argument("--audit", type=int, default=0, metavar="N",
                        help="simulate the audit loop: the first N queries in a seeded random order are labelled, "
                             "the auto-accept thresholds refitted on them (vision.audits; with --cv, each fold's), "
                             "and the rest measured before and after")
    parser.add_argument("--audit-seed", type=int, default=0, help="the order of --audit")
    parser.add_argument("--k", type=int, default=VoteConfig.k, help="neighbours that vote")
    parser.add_argument("--temperature", type=_temperature, default=VoteConfig.temperature,
                        help="similarity softmax temperature, or 'none' for equal votes")
    parser.add_argument("--threshold", type=float, default=VoteConfig.threshold,
                        help="confidence a level needs to be shown")
    parser.add_argument("--segmenter", type=_segmenter,
                        help="find items first, as the worker does; a query's prediction is its main item's (not "
                             "with --cv); 'none', the default: categorize whole photos")
    parser.add_argument("--text", action=argparse.BooleanOptionalAction, default=VoteConfig.text_weight > 0,
                        help="read the text on every photo (vision.text) and let it re-weigh the vote; the "
                             "calibration stays fitted on the picture alone (default: as the app does, no text)")
    parser.add_argument("--text-weight", type=float, default=MEASURED_TEXT_WEIGHT, help="with --text")
    parser.add_argument("--batch-size", type=int,
                        help="images a forward pass (default: on ONNX Runtime 8; on PyTorch 32 on a GPU, 2 on a CPU)")
    parser.add_argument("--device", default=None, help="with --runtime torch: cpu or cuda (default: cuda if available)")
    return parser


def _temperature(text):
    return None if text.lower() == "none" else float(text)


def _folds(text):
    if not text.isdigit() or int(text) < 2:
        raise argparse.ArgumentTypeError("cross-validation needs a whole number of folds, at least 2")
    return int(text)


def _segmenter(text):
    # 'none' as vision.evaluate_items, vision.evaluate_cam and bench.worker_cost take it, not a model's name.
    return None if text.lower() == "none" else text


# --- categorizing ------------------------------------------------------------------------------

def categorize_queries(categorizer, queries, batch_size, segmenter=None, reader=None):
    """[Result] for every readable query, and the unreadable ones; with a TextReader, the text
    read on each query re-weighs its vote."""
    results, skipped = [], []
    with tqdm(total=len(queries), desc="queries", unit="img", file=sys.stderr) as bar:
        for readable, images, unreadable in load_in_batches(queries, batch_size, progress=bar):
            skipped.extend(unreadable)
            lines = [reader.read(image) for image in images] if reader else [[] for _ in images]
            if segmenter is not None:
                found = [categorizer.categorize_photo(image, segmenter, read)[0][1]
                         for image, read in zip(images, lines)]
            else:
                found = categorizer.categorize(images, [words_read(read) for read in lines]) if images else []
            results.extend(Result(query.path, query.category, f.assignment, f.decision, f.embedding)
                           for query, f in zip(readable, found))
    return results, skipped


@dataclass
class Embedded:
    """The readable photos of a catalogue, embedded once."""

    images: list  # [CatalogueImage]
    vectors: np.ndarray
    trained: np.ndarray  # bool: the embedder was trained on it
    skipped: list
    keys: list = None  # each photo's content key (vision.content_keys)
    groups: np.ndarray = None  # occasion of each photo (vision.splits), when known
    novelty: np.ndarray = None  # the grouping backbone's features, when the embedder is another
    words: list = None  # the words read on each photo (vision.text), when text is used


def novelty_embedder_for(embedder, device=None, batch_size=None, runtime=DEFAULT_RUNTIME):
    """The frozen grouping embedder, for an embedder other than it (None: its own features serve)."""
    return None if is_grouping_backbone(embedder.weights) else grouping_embedder(device, batch_size, runtime)


def loaded(load, *args, **kwargs):
    """load(*args, **kwargs), a model that cannot be had here (no ONNX file, no weights) ending the
    measurement with what to do."""
    try:
        return load(*args, **kwargs)
    except ModelUnavailable as error:
        raise SystemExit(str(error)) from error


def chosen_segmenter(name, runtime, device=None):
    """The segmenter `name` on `runtime`, or with no name the one a worker serves (DEFAULT_SEGMENTER,
    on either runtime in float); one that cannot be had here ends the measurement (loaded)."""
    return loaded(load_segmenter, name or DEFAULT_SEGMENTER, runtime, device=device)


def embed_catalogue(images, embedder, batch_size, description, novelty_embedder=None):
    """The readable photos embedded, and by `novelty_embedder` too when given (novelty_embedder_for)."""
    kept, vectors, novelty, skipped = [], [], [], []
    with tqdm(total=len(images), desc=description, unit="img", file=sys.stderr) as bar:
        for readable, batch, unreadable in load_in_batches(images, batch_size, progress=bar):
            skipped.extend(unreadable)
            if batch:
                kept.extend(readable)
                vectors.append(embedder.embed(batch))
                if novelty_embedder is not None:
                    novelty.append(novelty_embedder.embed(batch))
    vectors = np.concatenate(vectors) if vectors else np.zeros((0, embedder.dimension), np.float32)
    keys = [content_key(image.path) for image in kept]
    trained = np.array([key in embedder.weights.trained_on for key in keys], bool)
    return Embedded(kept, vectors, trained, skipped, keys,
                    novelty=np.concatenate(novelty) if novelty_embedder is not None and novelty else None)


def with_words(embedded, reader):
    """The embedded photos with the words read on each."""
    words = []
    for image in tqdm(embedded.images, desc="reading text", unit="img", file=sys.stderr):
        with open(image.path, "rb") as handle:
            words.append(words_read(reader.read(load_image(handle))))
    return replace(embedded, words=words)


def text_profiles(embedded, rows):
    """TextProfiles of the words read on the photos at `rows`; None when no text was read."""
    if embedded.words is None:
        return None
    return TextProfiles.of_references((embedded.images[row].category, embedded.words[row]) for row in rows)


def with_occasions(embedded):
    """The embedded photos with their occasion groups, found in the grouping backbone's frozen
    features: their novelty features, or their own embeddings when they have none (they are then
    the grouping backbone's, see novelty_embedder_for)."""
    features = embedded.vectors if embedded.novelty is None else embedded.novelty
    return replace(embedded, groups=occasion_groups([image.category for image in embedded.images], features))


def make_index(embedded, rows, embedder, config):
    """A calibrated ReferenceIndex of the embedded photos at `rows` (ids: their positions)."""
    weights = embedder.weights
    index = ReferenceIndex(weights.feature_dim, weights.name, weights.version)
    rows = np.asarray(rows, int)
    groups = embedded.groups[rows] if embedded.groups is not None else None
    novelty = embedded.novelty[rows] if embedded.novelty is not None else None
    keys = [embedded.keys[i] for i in rows] if embedded.keys is not None else None
    index.add(embedded.vectors[rows], [embedded.images[i].category for i in rows], rows, embedded.trained[rows],
              groups, novelty, keys)
    refresh_calibration(index, config, of_weights(weights))
    return index


def categorize_embedded(categorizer, embedded, rows):
    """[Result] for already embedded photos, through the same vote and decision as categorize()."""
    found = categorizer.index.search(embedded.vectors[rows], categorizer.config.searched)
    novelty = [None] * len(rows)
    if categorizer.index.has_novelty_space:
        novelty = [[s] for s in categorizer.index.novelty_search(embedded.novelty[rows], 1)[0][:, 0].tolist()]
    results = []
    for row, neighbours, nearest in zip(rows, found, novelty):
        words = embedded.words[row] if embedded.words is not None else ()
        assignment = vote(neighbours, categorizer.config, categorizer.text_similarities(words))
        image = embedded.images[row]
        results.append(Result(image.path, image.category, assignment, categorizer.decide([assignment], nearest),
                              embedded.vectors[row]))
    return results


def cross_validate(embedded, eligible, folds, embedder, config, target_precision, novelty_embedder=None):
    """[(calibration, [Result])] per fold: every eligible photo's Result, against an index of every
    photo outside its fold, with that index's calibration."""
    folds_results = []
    eligible = np.asarray(eligible, int)
    fold_of = np.asarray(cv_folds([embedded.images[i] for i in eligible], folds, groups=embedded.groups[eligible]))
    for fold in range(folds):
        queries = eligible[fold_of == fold]
        rest = np.setdiff1d(np.arange(len(embedded.images)), queries)
        categorizer = Categorizer(embedder, make_index(embedded, rest, embedder, config), config, target_precision,
                                  novelty_embedder, text_profiles(embedded, rest))
        folds_results.append((categorizer.index.calibration, categorize_embedded(categorizer, embedded, queries)))
        print(f"fold {fold + 1}/{folds}: {len(queries)} queries against {len(rest)} references", file=sys.stderr)
    return folds_results


# --- honesty checks ----------------------------------------------------------------------------

def cv_eligible(embedded, args):
    """Rows that may be CV queries: photos the embedder never trained on (and, with
    --holdout-fraction, in the held-out part). Exits when there are none."""
    rows = np.flatnonzero(~embedded.trained)
    if args.holdout_fraction:
        _, held = holdout_split(embedded.images, args.holdout_fraction, args.split_seed, embedded.groups)
        held_paths = {image.path for image in held}
        in_holdout = np.array([image.path in held_paths for image in embedded.images], bool)
        trained_held = int((in_holdout & embedded.trained).sum())
        if trained_held and not args.allow_seen:
            raise SystemExit(f"{trained_held} photos of the --holdout-fraction {args.holdout_fraction} part were "
                             "trained on: the embedder was trained with another split. Use its own fraction "
                             "and seed (its weights file records them).")
        rows = np.flatnonzero(in_holdout) if args.allow_seen else np.flatnonzero(in_holdout & ~embedded.trained)
    elif args.allow_seen:
        rows = np.arange(len(embedded.images))
    if not len(rows):
        raise SystemExit("The embedder was trained on every photo of --reference, so no fold would be honest. "
                         "Train it with --holdout-fraction, or measure with --queries on photos it never saw.")
    return rows


def check_queries(queries, weights, allow_seen):
    """The number of queries the embedder was trained on; exits on any unless allowed."""
    if not weights.trained_on:
        return 0
    seen = sum(content_key(query.path) in weights.trained_on for query in queries)
    if seen and not allow_seen:
        raise SystemExit(f"{seen} of the {len(queries)} queries are photos {weights.name} was trained on; "
                         "figures on them would be flattered. Measure on photos it never saw "
                         "(--cv uses only those), or pass --allow-seen to measure anyway.")
    return seen


def warn_about_unrecorded_training(weights):
    if weights.meta.get("unrecorded_training"):
        print(f"WARNING: {weights.name} does not record which photos it was trained on, so nothing here can "
              "check that the queries are new to it. Retrain it to get a record.", file=sys.stderr)


# --- the measurement ---------------------------------------------------------------------------

@dataclass
class Evaluation:
    """What one measurement made: its figures, and what they were made from (vision.report)."""

    figures: dict
    results: list  # [Result] of the queries
    references: Embedded
    categorizer: Categorizer  # the queries' (with --cv, over every reference)
    outside: list  # [Result] of the --outside photos
    skipped: list  # [(path, reason)]
    by_calibration: list  # [(calibration, [Result])]: the queries by the index that categorized them


def run(args):
    """The measurement the arguments ask for (add_experiment_arguments), as an Evaluation."""
    if not (args.queries or args.cv or args.holdout_fraction):
        raise SystemExit("Say what to measure on: --queries DIR, --cv K or --holdout-fraction F.")
    if args.queries and args.holdout_fraction:
        raise SystemExit("--holdout-fraction takes the queries from --reference; it does not go with --queries.")
    if args.cv and args.segmenter:
        raise SystemExit("--segmenter works without --cv only: CV folds are whole reference photos.")
    if args.holdout_fraction and len(args.reference) > 1:
        raise SystemExit("--holdout-fraction measures the part of one reference tree that training held out, split "
                         "as training split it: give that tree alone as --reference.")
    check_paths(args)
    queries = scan_catalogue(args.queries) if args.queries else None
    if queries == []:
        raise SystemExit(f"--queries {args.queries} holds no photo in a category folder: like --reference, it must "
                         "be a tree whose folders are the queries' categories (FOLDER/Fruit/Apple/photo.jpg).")
    config = VoteConfig(k=args.k, temperature=args.temperature, threshold=args.threshold,
                        text_weight=args.text_weight if args.text else 0.0)
    reader = TextReader() if args.text else None
    embedder = loaded(load_embedder, args.backbone, args.runtime, device=args.device, batch_size=args.batch_size)
    warn_about_unrecorded_training(embedder.weights)
    if queries:  # refused now, not after the references are embedded
        seen = check_queries(queries, embedder.weights, args.allow_seen)
    started = time.perf_counter()
    novelty_embedder = loaded(novelty_embedder_for, embedder, args.device, args.batch_size, args.runtime)
    references = with_occasions(embed_catalogue(scan_references(args.reference), embedder, embedder.batch_size,
                                                "references", novelty_embedder))
    if reader:
        references = with_words(references, reader)
    everything = np.arange(len(references.images))
    full_index = make_index(references, everything, embedder, config)
    index_seconds = time.perf_counter() - started
    categorizer = Categorizer(embedder, full_index, config, args.target_precision, novelty_embedder,
                              text_profiles(references, everything))
    started = time.perf_counter()
    skipped = list(references.skipped)
    if args.cv:
        eligible = cv_eligible(references, args)
        seen = int(references.trained[eligible].sum())
        by_calibration = cross_validate(references, eligible, args.cv, embedder, config, args.target_precision,
                                        novelty_embedder)
        results = [result for _, fold_results in by_calibration for result in fold_results]
        protocol = (f"{args.cv}-fold cross-validation over {len(eligible)} of {len(references.images)} reference "
                    "photos (those the embedder never trained on"
                    + (f", in the {args.holdout_fraction:.0%} held-out part" if args.holdout_fraction else "") + ")")
    else:
        if args.queries:
            protocol = f"queries from {args.queries}"
        else:  # the held-out part, once, against an index of the rest
            eligible = cv_eligible(references, args)
            queries, seen = [references.images[i] for i in eligible], int(references.trained[eligible].sum())
            rest = np.setdiff1d(everything, eligible)
            categorizer = Categorizer(embedder, make_index(references, rest, embedder, config), config,
                                      args.target_precision, novelty_embedder, text_profiles(references, rest))
            protocol = (f"the {args.holdout_fraction:.0%} held-out part ({len(queries)} photos) against the "
                        f"other {len(rest)} photos of the tree")
        segmenter = (loaded(load_segmenter, args.segmenter, args.runtime, device=args.device)
                     if args.segmenter else None)
        results, skipped_queries = categorize_queries(categorizer, queries, embedder.batch_size, segmenter, reader)
        if not results:  # figures of no query would read as 0.0 %
            raise SystemExit(f"None of the {len(queries)} queries could be read: "
                             + "; ".join(f"{path}: {reason}" for path, reason in skipped_queries[:3]))
        by_calibration = [(categorizer.index.calibration, results)]
        skipped += skipped_queries
        protocol += f", main item by {segmenter.version}" if segmenter else ""
    query_seconds = time.perf_counter() - started
    figures = score(results) | calibration_figures(results, args.target_precision) | {
        "protocol": protocol,
        "seen_queries": seen,
        "images_per_second": len(results) / query_seconds if query_seconds and not args.cv else None,
        "index_build_seconds": index_seconds,
        "n_reference": len(categorizer.index),
        "backbone": embedder.weights.version,
        "segmenter": args.segmenter,
        "calibration": categorizer.index.calibration.manifest() if categorizer.index.calibration else None,
        "vote": {"k": config.k, "temperature": config.temperature, "threshold": config.threshold,
                 "text_weight": config.text_weight},
        "text": reader.version if reader else None,
    }
    if args.audit:
        figures["audit"] = _audit(by_calibration, args)
    outside = []
    if args.outside:
        outside, skipped_outside = categorize_queries(categorizer, _any_images(args.outside), embedder.batch_size,
                                                      reader=reader)
        skipped += skipped_outside
        figures["outside"] = outside_figures(results, outside)
    figures["skipped"] = [{"path": p, "reason": r} for p, r in skipped]
    if figures["images_per_second"] is None:
        figures["images_per_second"] = len(references.images) / index_seconds if index_seconds else 0.0
    return Evaluation(figures, results, references, categorizer, outside, skipped, by_calibration)


def scan_references(folders):
    """The photos of the reference trees `folders` as one catalogue: a photo in two of them (the
    same content) once, as import_catalog imports it."""
    if len(folders) == 1:
        return scan_catalogue(folders[0])
    kept, seen = [], set()
    for image in (image for folder in folders for image in scan_catalogue(folder)):
        try:
            key = content_key(image.path)
        except OSError:  # embedding reports the unreadable file
            kept.append(image)
            continue
        if key not in seen:
            seen.add(key)
            kept.append(image)
    return kept


def check_paths(args):
    """Refuse a folder that is not there, or an output that could not be written, before the
    references are embedded (an hour, on a large tree), not after."""
    folders = [("--reference", folder) for folder in args.reference]
    for option, folder in folders + [("--queries", args.queries), ("--outside", args.outside)]:
        if folder and not os.path.isdir(folder):
            raise SystemExit(f"{option} folder not found: {folder}")
    for option, path in (("--json", args.json), ("--predictions", args.predictions)):
        if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            raise SystemExit(f"{option} {path}: its folder {os.path.dirname(os.path.abspath(path))} is not there.")


def _audit(by_calibration, args):
    if any(calibration is None for calibration, _ in by_calibration):
        raise SystemExit("--audit needs calibrated indexes: the reference tree has too few photos the embedder "
                         "did not train on to calibrate (with --holdout-fraction, measure the held-out part with "
                         "--cv instead: its folds' indexes hold the other held-out photos).")
    count = sum(len(results) for _, results in by_calibration)
    if not 0 < args.audit < count:
        raise SystemExit(f"--audit must be between 1 and the number of queries less one ({count - 1}).")
    return simulate(by_calibration, args.audit, args.audit_seed, args.target_precision)


def _any_images(folder):
    """Every image under `folder` (check_paths found it), as catalogue entries of no category."""
    return [CatalogueImage(os.path.join(directory, name), ())
            for directory, _, names in sorted(os.walk(folder)) for name in sorted(names) if is_image_filename(name)]

