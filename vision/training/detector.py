"""Training the class-agnostic product detector (vision.detect, vision.detector_net) on real photos
with boxed products and on composites of packshot cut-outs: the library that the command
`python -m vision.training.train_detector` and `manage.py train_detector` both call.

    python -m vision.training.train_detector --instances FILE.json --photos DIR --name NAME
        [--init DETECTOR] [--epochs N] [--resume]

The boxed photos (a COCO instances file, e.g. Freiburg groceries) are split three ways, each in
whole occasions (vision.coco.validation_part): their validation part, never trained on nor used
to choose anything (`vision.evaluate_items --holdout-fraction 0.2` measures on it); a tuning
part of the rest, on which every `--eval-every` epochs item recall and precision are measured
and, at the end, the score threshold is chosen (the best item F1; stored in the weights file, so
serving uses it); and the training part. Composites (Grocery packshots on ECSSD backgrounds, 1–4
items, often touching; vision.composites) add variety with exact boxes. Augmentation: random
crops (a box less than half in view is dropped: the photos leave products cut off at their
edges unboxed), 2×2 mosaics of four photos (small products, more of them a photo), flips and
colour jitter.

Targets and loss follow TTFNet (Liu et al., "Training-Time-Friendly Network for Real-Time Object
Detection", AAAI 2020), chosen because it trains in few epochs: a Gaussian per box on the heat
map (focal loss), and the box distances learnt by GIoU loss at the cells near each box's
centre, weighted by that Gaussian and by the box's log area. With `--init` a trained detector is
fine-tuned (a catalogue's own boxed photos, `manage.py train_detector`): what it saves is the blend
of the fine-tuned weights with those it started from, and the threshold, that gain most in the
weaker of recall and precision over the start on the tuning part (SHARES; the start itself where
none gains in both). Otherwise the encoder starts from ImageNet.
"""

import argparse
import os
import sys
from dataclasses import dataclass, replace

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision.ops import generalized_box_iou_loss
from torchvision.transforms import v2 as T

from ..arguments import whole_number
from ..boxes import box_area, match_boxes
from ..coco import InstancesError, load_instances, validation_part
from ..composites import DEFAULT_CUT_OUTS, DEFAULT_ECSSD, composite_generator
from ..content_keys import content_key
from ..detect import DISTANCE_UNIT, STRIDE
from ..detector_net import TorchDetector, product_detector
from ..encoder import DEFAULT_ENCODER, input_transform
from ..images import load_image
from ..onnx_export import export_segmenter
from ..onnx_runtime import onnx_dir
from ..unet import load_segmenter, segmenter_path
from .common import (Progress, add_precision_argument, append_log, autocast, epochs_count, freeze_encoder_but_last,
                     half_precision, load_checkpoint, log_epoch, lr_lambda, optimise_epoch, output_dir_for,
                     save_atomically, save_checkpoint, set_train_mode, take_architecture)

# The Gaussian of a box spans this share of its sides (TTFNet's alpha and beta).
GAUSSIAN_SPAN = 0.54
# Cells where a box's Gaussian is below this learn no box distances from it.
REGRESSION_FLOOR = 0.05
# TTFNet's weight of the box loss against the heat map's.
BOX_LOSS_WEIGHT = 5.0
# A box cropped to less than this share of its area is dropped (a product cut off at the edge).
MIN_VISIBLE = 0.5
# Score thresholds tried on the tuning part, 0.15 to 0.6 in steps of 0.01: fine enough that a
# fine-tuning finds the one that gains most in both recall and precision over its start (steps of
# 0.05 left Breakfast 0.4, its precision 0.0002 under the start's, or 0.45, its recall up a hair),
# and cheap (the network runs once a photo; only decoding is repeated).
THRESHOLDS = tuple(round(0.15 + 0.01 * step, 2) for step in range(46))
# The fine-tuned network's shares in the weights of a fine-tuning's detector (the blend), the rest the
# start's, tried on the tuning part (weight-space ensembles: Wortsman et al., "Robust fine-tuning of
# zero-shot models", CVPR 2022). A fine-tuning's gain on a catalogue's own photos came with a loss in
# recall or precision (bench/README.md, "One box per product"); a blend can keep the gain and lose
# less. Share 0 is the start as it was, at its own threshold: what a catalogue gets where no blend
# gains in both.
SHARES = (0.0, 0.25, 0.5, 0.75, 1.0)
TUNING_SEED = 1


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", required=True, help="COCO instances file of real photos with boxed products")
    parser.add_argument("--photos", required=True, help="the folder the instances' file names are relative to")
    parser.add_argument("--name", required=True, help="save as vision/weights/segmenters/NAME.pt (and NAME.onnx)")
    parser.add_argument("--init", help="fine-tune this trained detector instead of starting from ImageNet")
    parser.add_argument("--encoder", help=f"default: {DEFAULT_ENCODER}, or with --init the one it was built on")
    parser.add_argument("--cut-outs", default=DEFAULT_CUT_OUTS, help="packshots on white to make composites of")
    parser.add_argument("--ecssd", default=DEFAULT_ECSSD, help="backgrounds for the composites (images/, masks/)")
    parser.add_argument("--composites", type=whole_number(0), default=600, help="new composites per epoch (0: none)")
    parser.add_argument("--mosaic", type=float, default=0.3, help="share of training samples that are 2×2 mosaics")
    parser.add_argument("--train-blocks", type=int, default=13,
                        help="encoder blocks trained, from the deepest (13 of Lite0's 16: those at strides 8 to 32; "
                             "the stem and the blocks before keep ImageNet's general edges and colours, and "
                             "training them would cost half of each step; -1: all)")
    parser.add_argument("--input-size", type=int, help="default: 256, or with --init the one it was trained at")
    parser.add_argument("--epochs", type=epochs_count, default=10)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-3, help="neck and heads; the encoder: 4× lower")
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--eval-every", type=epochs_count, default=5,
                        help="epochs between measurements on the tuning part (the last epoch is always measured)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--device", default=None)
    add_precision_argument(parser)
    parser.add_argument("--max-steps", type=int, default=None, help="stop each epoch after this many steps (tests)")
    parser.add_argument("--limit", type=int, default=None, help="only this many photos in each part (tests)")
    parser.add_argument("--output-dir", default=None,
                        help="checkpoints and log (default: ~/.cache/catalog-training/NAME)")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    return parser


# --- samples and their augmentation -------------------------------------------------------------


def augmented(image, boxes, rng, size, jitter):
    """(the photo cropped at random, squeezed to size × size, maybe flipped and colour-jittered;
    its boxes (N, 4) moved with it, those mostly cropped away dropped)."""
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    if rng.random() < 0.7:
        image, boxes = _random_crop(image, boxes, rng)
    scale = np.array([size / image.width, size / image.height] * 2, np.float32)
    image, boxes = image.resize((size, size), Image.BILINEAR), boxes * scale
    if rng.random() < 0.5:
        image = image.transpose(Image.FLIP_LEFT_RIGHT)
        boxes = np.stack([size - boxes[:, 2], boxes[:, 1], size - boxes[:, 0], boxes[:, 3]], axis=1)
    return jitter(image), boxes


def _random_crop(image, boxes, rng):
    area = image.width * image.height * rng.uniform(0.35, 1.0)
    ratio = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
    width = min(image.width, round(np.sqrt(area * ratio)))
    height = min(image.height, round(np.sqrt(area / ratio)))
    left, top = rng.integers(0, image.width - width + 1), rng.integers(0, image.height - height + 1)
    window = np.array([left, top, left + width, top + height], np.float32)
    clipped = np.concatenate([np.maximum(boxes[:, :2], window[:2]), np.minimum(boxes[:, 2:], window[2:])], axis=1)
    visible = np.clip(clipped[:, 2] - clipped[:, 0], 0, None) * np.clip(clipped[:, 3] - clipped[:, 1], 0, None)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    kept = visible >= MIN_VISIBLE * np.maximum(areas, 1e-6)
    return image.crop(tuple(int(v) for v in window)), clipped[kept] - np.concatenate([window[:2], window[:2]])


def mosaic(parts, size):
    """Four (image, boxes) of size/2 each, tiled 2×2 into one of size × size."""
    half = size // 2
    canvas, boxes = Image.new("RGB", (size, size)), []
    for k, (image, part_boxes) in enumerate(parts):
        dx, dy = (k % 2) * half, (k // 2) * half
        canvas.paste(image, (dx, dy))
        boxes.append(part_boxes + np.array([dx, dy, dx, dy], np.float32))
    return canvas, np.concatenate(boxes).reshape(-1, 4)


def targets(boxes, size):
    """(heat map (h, w), box targets (4, h, w) as absolute (left, top, right, bottom), their weights
    (h, w)) of boxes (N, 4) in a size × size input. Larger boxes first, so that where two boxes'
    centres crowd the same cells, the smaller (usually the nearer, in front) keeps them."""
    cells = size // STRIDE
    heat = np.zeros((cells, cells), np.float32)
    box_targets = np.zeros((4, cells, cells), np.float32)
    weights = np.zeros((cells, cells), np.float32)
    centres = (np.arange(cells, dtype=np.float32) + 0.5) * STRIDE
    for box in sorted(boxes, key=box_area, reverse=True):
        width, height = box[2] - box[0], box[3] - box[1]
        if width < 2 or height < 2:
            continue
        row = min(int((box[1] + box[3]) / 2 // STRIDE), cells - 1)
        column = min(int((box[0] + box[2]) / 2 // STRIDE), cells - 1)
        sigma_x, sigma_y = max(GAUSSIAN_SPAN * width / 6, 1.0), max(GAUSSIAN_SPAN * height / 6, 1.0)
        gaussian = np.exp(-((centres[None, :] - centres[column]) ** 2 / (2 * sigma_x ** 2)
                            + (centres[:, None] - centres[row]) ** 2 / (2 * sigma_y ** 2)))
        heat = np.maximum(heat, gaussian)
        inside = ((centres[None, :] > box[0]) & (centres[None, :] < box[2])
                  & (centres[:, None] > box[1]) & (centres[:, None] < box[3]))
        region = (gaussian >= REGRESSION_FLOOR) & inside
        region[row, column] = True
        box_targets[:, region] = np.asarray(box, np.float32)[:, None]
        weights[region] = gaussian[region] / gaussian[region].sum() * np.log(max(width * height, 2.0))
    return heat, box_targets, weights


class DetectionSamples(Dataset):
    """Training samples, each drawn afresh by (epoch, index): a boxed photo or a composite, or with
    probability `mosaic_share` a mosaic of four of them."""

    def __init__(self, photos, composites, composite_count, size, epoch, seed, mosaic_share):
        self.photos, self.composites, self.composite_count = photos, composites, composite_count
        self.size, self.epoch, self.seed, self.mosaic_share = size, epoch, seed, mosaic_share
        self.finish = input_transform(size)
        self.jitter = T.ColorJitter(brightness=0.3, contrast=0.3, saturation=0.3, hue=0.03)

    def __len__(self):
        return len(self.photos) + self.composite_count

    def _source(self, i):
        if i < len(self.photos):
            photo = self.photos[i]
            return load_image(photo.path), [product.box for product in photo.products]
        composite = self.composites(self.epoch * self.composite_count + i - len(self.photos))
        return composite.image, [box for box, mask in zip(composite.boxes, composite.masks) if mask.any()]

    def __getitem__(self, i):
        rng = np.random.default_rng([self.seed, self.epoch, i])
        torch.manual_seed(int(rng.integers(2 ** 31)))  # the colour jitter draws from torch
        if rng.random() < self.mosaic_share:
            others = rng.integers(len(self), size=3)
            image, boxes = mosaic([augmented(*self._source(j), rng, self.size // 2, self.jitter)
                                   for j in (i, *others)], self.size)
        else:
            image, boxes = augmented(*self._source(i), rng, self.size, self.jitter)
        return (self.finish(image), *map(torch.from_numpy, targets(boxes, self.size)))


# --- loss ----------------------------------------------------------------------------------------


def detection_loss(maps, heat, box_targets, weights):
    """Focal loss on the heat map (CenterNet's, over the peaks' count) + GIoU loss of the boxes
    at the weighted cells."""
    probabilities = torch.sigmoid(maps[:, 0]).clamp(1e-4, 1 - 1e-4)
    peaks = heat.eq(1).float()
    positive = torch.log(probabilities) * (1 - probabilities) ** 2 * peaks
    negative = torch.log(1 - probabilities) * probabilities ** 2 * (1 - heat) ** 4 * (1 - peaks)
    heat_loss = -(positive.sum() + negative.sum()) / peaks.sum().clamp(min=1)

    distances = torch.relu(maps[:, 1:]) * DISTANCE_UNIT
    cells = maps.shape[-1]
    centres = (torch.arange(cells, device=maps.device, dtype=maps.dtype) + 0.5) * STRIDE
    x, y = centres[None, None, :], centres[None, :, None]
    predicted = torch.stack([x - distances[:, 0], y - distances[:, 1], x + distances[:, 2], y + distances[:, 3]], 1)
    where = weights > 0
    if not where.any():
        return heat_loss
    giou = generalized_box_iou_loss(predicted.permute(0, 2, 3, 1)[where], box_targets.permute(0, 2, 3, 1)[where],
                                    reduction="none")
    return heat_loss + BOX_LOSS_WEIGHT * (giou * weights[where]).sum() / weights.sum().clamp(min=1e-4)


# --- measuring on the tuning part ---------------------------------------------------------------


def detector_figures(detector, photos, thresholds=None):
    """{threshold: {"item_recall", "item_precision", "item_f1", and the counts}} of the detector's boxes on boxed
    photos (matched one to one at IoU ≥ 0.5, as vision.evaluate_items), at each of `thresholds`
    (default: the detector's own), its other settings as they are."""
    own = detector.settings
    thresholds = thresholds or (own.score_threshold,)
    counts = {threshold: np.zeros(3) for threshold in thresholds}  # labelled, found, matched
    try:
        for start in range(0, len(photos), 16):
            chunk = photos[start:start + 16]
            images = [load_image(photo.path) for photo in chunk]
            for photo, image, maps in zip(chunk, images, detector.predict_many(images)):
                truth = [product.box for product in photo.products]
                for threshold in thresholds:
                    detector.settings = replace(own, score_threshold=threshold)
                    found = [item.box for item in detector._items(image, *maps)]
                    counts[threshold] += (len(truth), len(found), len(match_boxes(found, truth)))
    finally:
        detector.settings = own
    return {threshold: _figures(*counts[threshold]) for threshold in thresholds}


def _figures(labelled, found, matched):
    recall, precision = float(matched / max(labelled, 1)), float(matched / max(found, 1))
    f1 = 2 * recall * precision / (recall + precision) if recall + precision else 0.0
    # The counts too (as vision.segmenter_figures and vision.evaluate_items name them): a difference of
    # 0.0003 in precision may be one box.
    return {"item_recall": round(recall, 4), "item_precision": round(precision, 4), "item_f1": round(f1, 4),
            "n_products": int(labelled), "n_predicted": int(found), "unmatched_items": int(found - matched)}


def best_threshold(figures, floor=None):
    """The threshold of the best item F1 (the lower of two equal). With `floor`, the figures of the
    detector a fine-tuning started from on the same photos: the threshold whose smaller gain over it,
    in recall and in precision, is the largest (then the best F1), so that adapting to a catalogue
    gains in both where it can, and does not buy one with the other. The best F1 among the
    thresholds merely no worse sat where one of the gains was a hair (Breakfast's recall +0.4 points,
    Pantry's precision +0.8 on their tuning parts), and on the held-out photos that gain turned into
    a loss (bench/README.md, "One box per product")."""
    if floor is None:
        return max(figures, key=lambda threshold: (figures[threshold]["item_f1"], -threshold))
    return max(figures, key=lambda threshold: (*_rank(figures[threshold], floor), -threshold))


def best_blend(figures, floor, start_threshold):
    """(share, threshold) of `figures` ({share of the fine-tuned network: {threshold: figures}}) whose
    smaller gain over `floor`, the start's figures at its `start_threshold`, in recall and precision is
    the largest, as best_threshold, then the best F1; of two alike, the smaller share (the nearer the
    start). Where none gains in both, the start as it was, (0, start_threshold): Baking's fine-tuning
    at 0.35 held its tuning part's recall and gained in precision, and on its held-out photos it
    traded one for the other (bench/README.md, "One box per product")."""
    best = max(((share, threshold) for share in figures for threshold in figures[share]),
               key=lambda pair: (*_rank(figures[pair[0]][pair[1]], floor), -pair[0], -pair[1]))
    return best if _rank(figures[best[0]][best[1]], floor)[0] > 0 else (0.0, start_threshold)


def _rank(one, floor):
    """(the smaller of the gains in recall and in precision over `floor`, then the F1): the order in
    which a fine-tuning's choices rank."""
    smaller = min(one["item_recall"] - floor["item_recall"], one["item_precision"] - floor["item_precision"])
    return round(smaller, 6), one["item_f1"]


def blended(start_state, tuned_state, share):
    """The weights `share` of the way from `start_state` to `tuned_state`; the trained blocks' batch
    statistics too, which only approximates the blend's own (the tuning part measures the blend as
    it is)."""
    return {name: torch.lerp(start_state[name].float(), tensor.float(), share).to(tensor.dtype)
            if tensor.is_floating_point() else tensor for name, tensor in tuned_state.items()}


def weights_of(model):
    """A copy of `model`'s weights: what a blend is made of stays as it was while others are loaded."""
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


@dataclass(frozen=True)
class StartingPoint:
    """What a fine-tuning starts from, taken before its network (the one trained) changes: its
    weights, its threshold, and what it finds on the tuning part at that threshold (the floor the
    fine-tuning's choices are measured against)."""

    weights: dict
    threshold: float
    floor: dict


def starting_point(start, tuning):
    [floor] = detector_figures(start, tuning).values()
    return StartingPoint(weights_of(start.model), start.settings.score_threshold, floor)


def blend_with_start(model, start_point, tuned_figures, tuning, input_size):
    """Load into the fine-tuned `model` its blend with `start_point` (a StartingPoint) that gains most
    over it on the tuning part (best_blend); the choice: its share and threshold, and each share's
    figures at its best threshold (share 0: the start at its own). `tuned_figures` are the fine-tuned
    network's own (share 1), as the last epoch measured them."""
    tuned = weights_of(model)
    device = next(model.parameters()).device
    figures = {0.0: {start_point.threshold: start_point.floor},
               1.0: {float(threshold): one for threshold, one in tuned_figures.items()}}
    for share in SHARES[1:-1]:
        model.load_state_dict(blended(start_point.weights, tuned, share))
        figures[share] = detector_figures(TorchDetector(model.eval(), "in training", input_size, device), tuning,
                                          THRESHOLDS)
    share, threshold = best_blend(figures, start_point.floor, start_point.threshold)
    model.load_state_dict(blended(start_point.weights, tuned, share))
    shares = {}
    for each in SHARES:
        best = best_threshold(figures[each], start_point.floor)
        shares[str(each)] = {"threshold": best} | figures[each][best]
    return {"share": share, "threshold": threshold, "shares": shares}


# --- the run -------------------------------------------------------------------------------------


def photo_parts(args):
    """(training photos, tuning photos, validation photos): the boxed photos of args.instances in
    their validation part, and those outside it split again, all in whole occasions."""
    try:
        photos = load_instances(args.instances, args.photos)
    except InstancesError as error:
        raise SystemExit(str(error)) from error
    rest, held = validation_part(photos)
    rest = [photo for photo in rest if photo.products and os.path.isfile(photo.path)]
    held = [photo for photo in held if photo.products and os.path.isfile(photo.path)]
    if len(rest) < 2 or not held:
        raise SystemExit(f"{args.instances} has {len(rest) + len(held)} readable photos with boxes in {args.photos}: "
                         "too few to train on and to measure on photos apart (is --photos the folder its file names "
                         "are relative to?).")
    train, tuning = validation_part(rest, 0.2, TUNING_SEED)
    print(f"{len(train)} boxed photos to train on, {len(tuning)} to choose the threshold on (and a fine-tuning's "
          f"blend), {len(held)} kept for validation", file=sys.stderr)
    return train[:args.limit], tuning[:args.limit], held[:args.limit]


def starting_detector(args, device):
    """The trained detector --init names (None without), its encoder and input size taken as the
    run's (take_architecture)."""
    start = load_segmenter(args.init, device=device) if args.init else None
    if start is not None and not start.finds_instances:
        raise SystemExit(f"--init {args.init} is a UNet segmenter, not a product detector: name a detector "
                         "(e.g. detector_lite0), or none to start from ImageNet.")
    take_architecture(args, start)
    return start


def make_model(args, start):
    model = start.model if start is not None else product_detector(args.encoder)
    return freeze_encoder_but_last(model, args.train_blocks)


def save_weights(model, args, history, threshold, trained_on):
    path = segmenter_path(args.name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    save_atomically({"kind": "detector", "encoder": args.encoder, "input_size": args.input_size,
                     "score_threshold": threshold, "state_dict": half_precision(model.state_dict()),
                     "trained_on": sorted(trained_on), "history": history}, path)
    export_segmenter(args.name, os.path.join(onnx_dir(), f"{args.name}.onnx"))


def main(args):
    return train_detector(args, *photo_parts(args)[:2])


def train_detector(args, train, tuning):
    """Train as `args` say on the boxed photos `train`, choosing the threshold on `tuning` (and with
    --init the blend with the start, recorded as the last epoch's "blend"); the per-epoch history."""
    torch.manual_seed(args.seed)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    output_dir = output_dir_for(args)
    start = starting_detector(args, device)
    start_point = starting_point(start, tuning) if start is not None else None
    floor = start_point.floor if start_point is not None else None
    composites = (composite_generator(args.cut_outs, args.ecssd, args.input_size, args.seed, "train")
                  if args.composites else None)

    model = make_model(args, start).to(device, memory_format=torch.channels_last)
    encoder_params = [p for p in model.encoder.parameters() if p.requires_grad]
    head_params = [p for name, p in model.named_parameters() if not name.startswith("encoder.")]
    optimizer = torch.optim.AdamW([{"params": encoder_params, "lr": args.lr / 4},
                                   {"params": head_params, "lr": args.lr}], weight_decay=args.weight_decay)
    steps_per_epoch = (len(train) + args.composites) // args.batch_size
    steps_per_epoch = max(1, min(steps_per_epoch, args.max_steps or steps_per_epoch))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(args.epochs * steps_per_epoch, steps_per_epoch))
    state = {"model": model, "optimizer": optimizer, "scheduler": scheduler}
    checkpoint_path = os.path.join(output_dir, "checkpoint.pt")
    history, _ = load_checkpoint(checkpoint_path, state, device) if args.resume else ([], None)
    progress = Progress(len(history), args.epochs)

    def batch_loss(images, heat, box_targets, weights):
        with autocast(device, args.precision):
            maps = model(images.to(device, memory_format=torch.channels_last))
        return detection_loss(maps.float(), heat.to(device), box_targets.to(device), weights.to(device))

    for epoch in range(len(history), args.epochs):
        data = DetectionSamples(train, composites, args.composites if composites else 0, args.input_size, epoch,
                                args.seed, args.mosaic)
        loader = DataLoader(data, batch_size=args.batch_size, shuffle=True, drop_last=True, num_workers=args.workers,
                            generator=torch.Generator().manual_seed(args.seed * 1000 + epoch))
        set_train_mode(model, args.train_blocks)
        record = {"epoch": epoch} | optimise_epoch(loader, batch_loss, optimizer, scheduler, epoch, args.max_steps)
        if (epoch + 1) % args.eval_every == 0 or epoch == args.epochs - 1:
            detector = TorchDetector(model.eval(), "in training", args.input_size, device)
            figures = detector_figures(detector, tuning, THRESHOLDS)
            record["tuning"] = {str(threshold): one for threshold, one in figures.items()}
            record["threshold"] = best_threshold(figures, floor)
            if floor:
                record["tuning_before"] = floor
        history.append(log_epoch(output_dir, record, progress))
        save_checkpoint(checkpoint_path, state, history, None)
    # The last epoch is kept (nothing chosen on which epoch); its threshold was chosen on the tuning part,
    # and a fine-tuning's blend with its start and the blend's threshold too.
    threshold = history[-1]["threshold"]
    if start_point is not None:
        history[-1] = history[-1] | {"blend": blend_with_start(model, start_point, history[-1]["tuning"], tuning,
                                                               args.input_size)}
        append_log(output_dir, {"blend": history[-1]["blend"]})
        threshold = history[-1]["blend"]["threshold"]
    save_weights(model, args, history, threshold, {content_key(photo.path) for photo in train})
    return history
