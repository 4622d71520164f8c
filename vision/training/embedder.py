"""Adapting a backbone to a catalogue: the training behind vision.training.train_embedder.

What the command line does, as a library: TrainingOptions (one field per option of the command
but --data; add_training_arguments adds them all to a parser, options_from reads them back) and
train(images, options), which trains on any [CatalogueImage], a folder tree's or the app's
reference images, and saves vision/weights/NAME.pt. The method is described in the command's
help (vision/training/train_embedder.py) and in vision/training/README.md.
"""

import json
import math
import os
from dataclasses import dataclass, field, fields, replace

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2 as T

from ..arguments import fraction_or_zero
from ..backbones import Backbone, get_backbone
from ..backbones.finetuned import build_projected, load_trained_state, weights_path
from ..catalogue import format_path, scan_catalogue
from ..categorize import Categorizer, build_index
from ..content_keys import content_key
from ..embedder import Embedder, pool_embeddings
from ..experiment import categorize_queries
from ..images import load_image
from ..onnx_export import export
from ..onnx_runtime import onnx_dir
from ..scoring import score
from ..splits import holdout_split, photo_occasions
from .common import (Progress, add_precision_argument, autocast, epochs_count, epochs_refusal, half_precision,
                     load_checkpoint, log_epoch, lr_lambda, optimise_epoch, output_dir_for, save_atomically,
                     save_checkpoint, use_all_cores)


# A trained embedder sees photos at this times the side it trained at: its random-resized crops
# showed it objects larger than a whole photo at that side shows them, and seeing the photo larger
# restores their scale with no retraining ("FixRes", Touvron et al. 2019). Chosen on Grocery (issue
# 14: 224 -> 288 px gained 2.5 points of leaf on the held-out fifth); bench/README.md has what it
# does on Freiburg, a catalogue tuned on by no one, and what it costs.
SERVING_SCALE = 9 / 7


@dataclass(kw_only=True)
class TrainingOptions:
    """How to train (add_training_arguments says what each option means)."""

    name: str
    val: str | None = None
    holdout_fraction: float = 0.0
    split_seed: int = 0
    keep: str = "best"
    extra: list = field(default_factory=list)
    extra_repeat: int = 4
    backbone: str = "efficientnet_lite0"
    train_blocks: int = 4
    layer_decay: float = 1.0
    projection_dim: int = 512
    image_size: int | None = None
    serving_size: int | None = None
    init: str | None = None
    content_keys: str | None = None
    onnx: bool = True
    epochs: int = 15
    batch_size: int = 32
    lr: float = 3e-4
    weight_decay: float = 1e-4
    temperature: float = 0.05
    label_smoothing: float = 0.1
    level_weights: str = "0.25,0.5,1.0"
    eval_every: int = 3
    workers: int = 1
    device: str | None = None
    precision: str = "auto"
    max_steps: int | None = None
    output_dir: str | None = None
    resume: bool = False
    seed: int = 0

    def __post_init__(self):
        # What the command line refuses (epochs_count), the training task's options too.
        if self.epochs < 1:
            raise ValueError(f"epochs: {epochs_refusal(self.epochs)}")
        if self.eval_every < 1:
            raise ValueError(f"eval_every: {epochs_refusal(self.eval_every)}")


def add_training_arguments(parser):
    """`parser` with every TrainingOptions field added as an option, its default the field's."""
    defaults = TrainingOptions
    parser.add_argument("--val", help="validation catalogue: kNN accuracy against --data, for model selection")
    parser.add_argument("--holdout-fraction", type=fraction_or_zero, default=defaults.holdout_fraction,
                        help="leave about this part of --data out of training, in whole occasions (near-duplicate "
                             "bursts, vision.splits) and from every leaf; it is measured like --val and is what "
                             "vision.evaluate and the index calibration use as photos the embedder never saw "
                             "(0, the default: train on every photo)")
    parser.add_argument("--split-seed", type=int, default=defaults.split_seed,
                        help="seed of the --holdout-fraction split")
    parser.add_argument("--keep", choices=("best", "last"), default=defaults.keep,
                        help="the epoch saved: the best by --val leaf accuracy (by loss without --val), or the "
                             "last, so that no measured photo chose anything")
    parser.add_argument("--extra", action="append", default=[],
                        help="more labelled images in the same tree shape (e.g. iconic packshots); repeatable")
    parser.add_argument("--extra-repeat", type=int, default=defaults.extra_repeat,
                        help="how often each --extra image is seen per epoch")
    parser.add_argument("--name", required=True, help="the backbone name to save as (vision/weights/NAME.pt)")
    parser.add_argument("--backbone", default=defaults.backbone)
    parser.add_argument("--train-blocks", type=int, default=defaults.train_blocks,
                        help="trainable blocks at the end of the backbone (0: only the projection; -1: all)")
    parser.add_argument("--layer-decay", type=float, default=defaults.layer_decay,
                        help="each trainable stage learns at this times the learning rate of the stage after it")
    parser.add_argument("--projection-dim", type=int, default=defaults.projection_dim)
    parser.add_argument("--image-size", type=int, default=defaults.image_size,
                        help="side in pixels of the crops it trains on (default: the backbone's own)")
    parser.add_argument("--serving-size", type=int, default=defaults.serving_size,
                        help="side in pixels at which the trained embedder sees photos, kept in the weights file "
                             "(default: 9/7 of the training side, to a multiple of 32: 288 for 224)")
    parser.add_argument("--init", help="start from these weights instead of the ImageNet ones alone: a trained "
                                       "embedder's name (e.g. grocery_lite0) or a weights file (.pt), e.g. the "
                                       "one an earlier short run saved and committed, so that runs on different "
                                       "machines add up; this run's schedule starts afresh (warm-up, cosine)")
    parser.add_argument("--content-keys", metavar="FILE",
                        help="a JSON file of each photo's content key by its path relative to the file's folder: "
                             "the photos are copies (the GPU pack's, downscaled) and the weights must record "
                             "their originals, which evaluations here read")
    parser.add_argument("--no-onnx", dest="onnx", action="store_false",
                        help="do not export NAME.onnx at every save (a GPU run: the file is made back here)")
    parser.add_argument("--epochs", type=epochs_count, default=defaults.epochs)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--lr", type=float, default=defaults.lr, help="backbone learning rate (head and proxies: 10×)")
    parser.add_argument("--weight-decay", type=float, default=defaults.weight_decay)
    parser.add_argument("--temperature", type=float, default=defaults.temperature,
                        help="softmax temperature of the proxy loss")
    parser.add_argument("--label-smoothing", type=float, default=defaults.label_smoothing)
    parser.add_argument("--level-weights", default=defaults.level_weights,
                        help="loss weight of depth 1, depth 2, ..., leaf (the last weight is the leaf's)")
    parser.add_argument("--eval-every", type=epochs_count, default=defaults.eval_every,
                        help="epochs between validation runs (the last epoch is always validated)")
    parser.add_argument("--workers", type=int, default=defaults.workers)
    parser.add_argument("--device", default=defaults.device)
    add_precision_argument(parser)
    parser.add_argument("--max-steps", type=int, default=defaults.max_steps,
                        help="stop each epoch after this many steps (tests)")
    parser.add_argument("--output-dir", default=defaults.output_dir,
                        help="checkpoints and log (default: ~/.cache/catalog-training/NAME)")
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --output-dir")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    return parser


def options_from(namespace):
    """The TrainingOptions of a namespace parsed by a parser of add_training_arguments (others ignored)."""
    return TrainingOptions(**{option.name: getattr(namespace, option.name) for option in fields(TrainingOptions)})


class CategoryLevels:
    """Category ids at every level: level d holds the paths truncated to depth d+1 (leaves last)."""

    def __init__(self, categories, depths):
        self.depths = depths
        self.ids = []
        for depth in depths:
            names = sorted({self.truncate(c, depth) for c in categories})
            self.ids.append({name: i for i, name in enumerate(names)})

    @staticmethod
    def truncate(category, depth):
        return category if depth is None else category[:depth]

    def labels(self, category):
        return [ids[self.truncate(category, depth)] for ids, depth in zip(self.ids, self.depths)]

    def sizes(self):
        return [len(ids) for ids in self.ids]

    def key(self, level):
        return "leaf" if self.depths[level] is None else str(self.depths[level])


class CatalogueDataset(Dataset):
    """Labelled images, each decoded once: JPEG decoding costs as much as a training step on a
    small CPU, and a catalogue of a few thousand photos fits in memory (in the loader's worker)."""

    def __init__(self, images, levels, transform):
        self.images, self.levels, self.transform = images, levels, transform
        self._decoded = {}

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        image = self.images[i]
        if image.path not in self._decoded:
            self._decoded[image.path] = load_image(image.path)
        return self.transform(self._decoded[image.path]), torch.tensor(self.levels.labels(image.category))


def training_transform(weights):
    """Strong augmentation: framing, scale, orientation, lighting and colour vary between photos."""
    return T.Compose([
        T.ToImage(),
        T.RandomResizedCrop(weights.crop_size, scale=(0.3, 1.0), antialias=True),
        T.RandomHorizontalFlip(),
        T.RandomRotation(20),
        T.ColorJitter(brightness=0.35, contrast=0.3, saturation=0.3, hue=0.03),
        T.ToDtype(torch.float32, scale=True),
        T.Normalize(weights.mean, weights.std),
    ])


class ProxyLoss(nn.Module):
    """Normalized softmax over one learned proxy per category, at every level of the tree."""

    def __init__(self, dimension, level_sizes, level_weights, temperature, label_smoothing):
        super().__init__()
        self.proxies = nn.ParameterList([nn.Parameter(torch.randn(n, dimension) * 0.01) for n in level_sizes])
        self.level_weights = level_weights
        self.temperature = temperature
        self.label_smoothing = label_smoothing

    def logits(self, embeddings, level):
        return embeddings @ F.normalize(self.proxies[level], dim=1).T / self.temperature

    def named(self, levels):
        """Each category's proxy, in fp16, by level ("leaf", or the depth) and category path: saved
        with the weights, so that a run started from them (--init) goes on from them too."""
        return {levels.key(level): {format_path(name): self.proxies[level][i].detach().half().cpu()
                                    for name, i in ids.items()}
                for level, ids in enumerate(levels.ids)}

    def start_from(self, named, levels):
        """Start the proxies of the categories `named` has (a weights file's) from its."""
        with torch.no_grad():
            for level, ids in enumerate(levels.ids):
                known = named.get(levels.key(level), {})
                for name, i in ids.items():
                    if format_path(name) in known:
                        self.proxies[level][i] = known[format_path(name)].float()

    def forward(self, embeddings, labels):
        return sum(
            weight * F.cross_entropy(self.logits(embeddings, level), labels[:, level],
                                     label_smoothing=self.label_smoothing)
            for level, weight in enumerate(self.level_weights)
        )


def make_model(options, init=None):
    """The model to train: the base backbone and a new projection, or the --init embedder's weights."""
    base = get_backbone(options.backbone)
    model = build_projected(base, options.projection_dim, options.name, f"{options.name}-training", "in training",
                            options.image_size)
    if init is not None:
        load_trained_state(model.trunk, init["state_dict"], init_path(options.init), options.backbone)
    for parameter in model.trunk.trunk.parameters():
        parameter.requires_grad = False
    for module in trainable_blocks(model.trunk.trunk, options.train_blocks):
        for parameter in module.parameters():
            parameter.requires_grad = True
    return model


def trainable_stages(trunk, count):
    """The last `count` stages of a trunk (all with -1), the output's first: each a list of modules
    (an EfficientNet's head with its last block, its other blocks; or a Sequential's children)."""
    if count == 0:
        return []
    if hasattr(trunk, "_blocks"):
        blocks = list(trunk._blocks) if count < 0 else list(trunk._blocks[-count:])
        stages = [[block] for block in reversed(blocks)]
        stages[0] = [trunk._conv_head, trunk._bn1] + stages[0]
        return stages
    children = list(trunk.children())
    return [[child] for child in reversed(children if count < 0 else children[-count:])]


def trainable_blocks(trunk, count):
    """Every module of trainable_stages, in one list."""
    return [module for stage in trainable_stages(trunk, count) for module in stage]


def parameter_groups(model, criterion, options):
    """The optimizer's groups: the projection and proxies at 10 × --lr, the last trainable stage at
    --lr and each stage before it at --layer-decay times the next one's (early stages hold general
    features, which a small catalogue should move least)."""
    stages = trainable_stages(model.trunk.trunk, options.train_blocks)
    groups = [{"params": [p for module in stage for p in module.parameters()],
               "lr": options.lr * options.layer_decay ** i} for i, stage in enumerate(stages)]
    head = list(model.trunk.projection.parameters()) + list(criterion.parameters())
    return groups + [{"params": head, "lr": options.lr * 10}]


def set_train_mode(model, options):
    """Train mode only where weights learn: frozen stages keep their ImageNet batch statistics."""
    model.eval()
    model.trunk.projection.train()
    for module in trainable_blocks(model.trunk.trunk, options.train_blocks):
        module.train()


def train_one_epoch(model, criterion, optimizer, scheduler, loader, device, epoch, options):
    set_train_mode(model, options)

    def batch_loss(images, labels):
        with autocast(device, options.precision):
            feature_maps = model(images.to(device, memory_format=torch.channels_last))
        # The loss in fp32: proxies and temperature-scaled logits need the precision.
        return criterion(pool_embeddings(feature_maps.float()), labels.to(device))

    return optimise_epoch(loader, batch_loss, optimizer, scheduler, epoch, options.max_steps)


def serving_size(options, training_size):
    """The side at which the trained embedder sees photos: --serving-size, or SERVING_SCALE times the
    side it trained at, to a multiple of 32."""
    if options.serving_size is not None:
        return options.serving_size
    return int(round(training_size * SERVING_SCALE / 32) * 32)


def as_served(model, options):
    """The model seeing photos as the saved embedder will (serving_size)."""
    size = serving_size(options, model.weights.crop_size)
    return Backbone(model.trunk, replace(model.weights, resize_size=size, crop_size=size)).eval()


def evaluate(model, images, queries, options, device):
    """kNN accuracy of `queries` against the training images, through the Categorizer the worker
    uses, the photos seen as the saved embedder will see them."""
    embedder = Embedder(as_served(model, options), device=device, batch_size=options.batch_size)
    index, _ = build_index(images, embedder, show_progress=False)
    results, _ = categorize_queries(Categorizer(embedder, index), queries, options.batch_size)
    figures = score(results)
    return {"accuracy_by_depth": figures["accuracy_by_depth"], "assigned_accuracy": figures["assigned_accuracy"]}


def init_path(init):
    """--init's weights file: a path ending in .pt, else the trained embedder of that name."""
    return init if init.endswith(".pt") else weights_path(init)


def init_weights(options):
    """The --init embedder's weights file, which must share this run's base and projection; None without it."""
    if not options.init:
        return None
    path = init_path(options.init)
    if not os.path.exists(path):
        raise SystemExit(f"--init {options.init}: there is no weights file at {path}.")
    stored = torch.load(path, map_location="cpu", weights_only=True)
    if (stored["base"], stored["projection_dim"]) != (options.backbone, options.projection_dim):
        raise SystemExit(f"--init {options.init} is {stored['base']} with a {stored['projection_dim']}-d projection; "
                         f"this run is {options.backbone} with {options.projection_dim}.")
    return stored


def trained_state(model, options, inherited):
    """What differs from the base backbone: the trained stages, and the `inherited` keys --init had trained."""
    modules = set(trainable_blocks(model.trunk.trunk, options.train_blocks)) | {model.trunk.projection}
    prefixes = tuple(f"{name}." for name, module in model.trunk.named_modules() if module in modules)
    return half_precision({k: v for k, v in model.trunk.state_dict().items()
                           if k.startswith(prefixes) or k in inherited})


def save_weights(model, options, history, inherited, trained_on, source, proxies, runs):
    """vision/weights/NAME.pt (and its .onnx): the trained tensors and proxies in fp16, what they
    trained on, and every run that made them (`runs`: --init's, then this one's)."""
    state = trained_state(model, options, inherited)
    served = serving_size(options, model.weights.crop_size)
    save_atomically({
        "base": options.backbone,
        "projection_dim": options.projection_dim,
        "input_size": served,
        "state_dict": state,
        "description": f"{options.backbone} adapted to {source} ({len(history)} epochs"
                       + (f", {sum(len(run['epochs']) for run in runs)} over {len(runs)} runs" if len(runs) > 1 else "")
                       + f", {trained_blocks_text(options.train_blocks)}, {model.weights.crop_size} px"
                       + f", sees photos at {served} px"
                       + (f", {options.holdout_fraction:.0%} held out" if options.holdout_fraction else "")
                       + (f", from {options.init})" if options.init else ")"),
        "history": json.dumps(history),
        "trained_on": sorted(trained_on),
        "holdout": {"fraction": options.holdout_fraction, "seed": options.split_seed},
        "proxies": proxies,
        "runs": json.dumps(runs),
    }, weights_path(options.name))
    # And as ONNX Runtime serves them, beside them: the two files never hold different weights.
    onnx_path = os.path.join(onnx_dir(), f"{options.name}.onnx")
    if options.onnx:
        export(options.name, onnx_path)
    elif os.path.exists(onnx_path):
        os.remove(onnx_path)


def trained_blocks_text(count):
    return "all blocks" if count < 0 else f"last {count} blocks"


def split_off_holdout(images, options):
    """(photos to train on, held-out photos: whole occasions, vision.splits)."""
    if not options.holdout_fraction:
        return images, []
    occasions = photo_occasions(images, device=options.device, runtime="torch")
    return holdout_split(images, options.holdout_fraction, options.split_seed, occasions)


def runs_of(init, options, source, photos, device, history):
    """The runs that trained the weights saved now: --init's (from its file), then this one, with
    each of its epochs' records (loss, and the figures where measured)."""
    earlier = json.loads(init.get("runs", "[]")) if init else []
    return earlier + [{"init": options.init or f"{options.backbone} (ImageNet)", "source": source, "photos": photos,
                       "device": device.type, "image_size": options.image_size, "epochs": history}]


def key_reader(options):
    """path -> the photo's content key: its own, or with --content-keys its original's."""
    if not options.content_keys:
        return content_key
    if options.holdout_fraction:
        raise SystemExit("--content-keys names copies' originals; a split of the copies would not be the "
                         "originals' split: train on them whole (no --holdout-fraction).")
    folder = os.path.dirname(os.path.abspath(options.content_keys))
    with open(options.content_keys) as handle:
        keys = json.load(handle)

    def key_of(path):
        try:
            return keys[os.path.relpath(os.path.abspath(path), folder)]
        except KeyError:
            raise SystemExit(f"{path} is not in {options.content_keys}: build the pack again.") from None
    return key_of


def check_holdout(held_out, init, options, key_of=content_key):
    """Refuse to measure photos --init trained on (held out, or --val): they would count as unseen."""
    if not init:
        return
    trained = set(init.get("trained_on", ()))
    seen = {key_of(image.path) for image in held_out} & trained
    if seen:
        raise SystemExit(f"--init {options.init} trained on {len(seen)} of the photos this run holds out; hold out "
                         f"what it held out ({init.get('holdout', 'not recorded')}) or nothing.")
    validated = {content_key(image.path) for image in scan_catalogue(options.val)} & trained if options.val else ()
    if validated:
        raise SystemExit(f"--init {options.init} trained on {len(validated)} of the --val photos: they cannot "
                         f"measure it; leave --val out.")


def training_record(images, init, key_of=content_key):
    """Content keys of every photo the saved weights have learnt from: these, and --init's."""
    return {key_of(image.path) for image in images} | set(init.get("trained_on", ()) if init else ())


def train(images, options, source="the catalogue's reference images"):
    """Train on [CatalogueImage] (from a folder tree, or the app's reference images) as `options`
    (TrainingOptions) say; `source`: what the images are, for the weights file's description."""
    if options.serving_size is not None and not 32 <= options.serving_size <= 1024:
        raise SystemExit("--serving-size must be from 32 to 1024 pixels.")
    torch.manual_seed(options.seed)
    use_all_cores()
    device = torch.device(options.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    output_dir = output_dir_for(options)
    os.makedirs(os.path.dirname(weights_path(options.name)), exist_ok=True)
    # A missing --init, or --content-keys with a split, is refused before the split's occasions are
    # found (the whole tree embedded).
    init = init_weights(options)
    key_of = key_reader(options)
    images, held_out = split_off_holdout(images, options)
    extra = [image for folder in options.extra for image in scan_catalogue(folder)] * options.extra_repeat
    levels, level_weights = category_levels(images + extra, options.level_weights)
    check_holdout(held_out, init, options, key_of)
    inherited = set(init["state_dict"]) if init else set()
    trained_on = training_record(images + extra, init, key_of)
    model = make_model(options, init).to(device, memory_format=torch.channels_last)
    criterion = ProxyLoss(options.projection_dim, levels.sizes(), level_weights, options.temperature,
                          options.label_smoothing)
    if init and "proxies" in init:
        criterion.start_from(init["proxies"], levels)
    criterion = criterion.to(device)
    optimizer = torch.optim.AdamW(parameter_groups(model, criterion, options), weight_decay=options.weight_decay)
    dataset = CatalogueDataset(images + extra, levels, training_transform(model.weights))
    loader = DataLoader(dataset, batch_size=options.batch_size, shuffle=True, drop_last=True,
                        num_workers=options.workers, persistent_workers=options.workers > 0)
    steps_per_epoch = min(len(loader), options.max_steps or len(loader))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lr_lambda(options.epochs * steps_per_epoch, steps_per_epoch))
    state = {"model": model, "criterion": criterion, "optimizer": optimizer, "scheduler": scheduler}

    checkpoint_path = os.path.join(output_dir, "checkpoint.pt")
    history, best = load_checkpoint(checkpoint_path, state, device) if options.resume else ([], -math.inf)
    progress = Progress(len(history), options.epochs)
    for epoch in range(len(history), options.epochs):
        record = {"epoch": epoch} | train_one_epoch(model, criterion, optimizer, scheduler, loader, device, epoch,
                                                    options)
        if (epoch + 1) % options.eval_every == 0 or epoch == options.epochs - 1:
            for key, queries in (("val", scan_catalogue(options.val) if options.val else []), ("holdout", held_out)):
                if queries:
                    record[key] = evaluate(model, images, queries, options, device)
        history.append(log_epoch(output_dir, record, progress))
        quality = epoch_quality(record, options)
        if quality is not None and quality > best:
            best = quality
            save_weights(model, options, history, inherited, trained_on, source, criterion.named(levels),
                         runs_of(init, options, source, len(images), device, history))
        save_checkpoint(checkpoint_path, state, history, best)
    return history


def category_levels(images, level_weights_text):
    """The levels trained (depth 1, depth 2, ..., leaf; as deep as the catalogue) and their loss weights."""
    depth = max(len(image.category) for image in images)
    level_weights = [float(w) for w in level_weights_text.split(",")]
    depths = list(range(1, len(level_weights)))[: depth - 1] + [None]
    return CategoryLevels([image.category for image in images], depths), level_weights[-len(depths):]


def epoch_quality(record, options):
    """What picks the saved epoch: val leaf accuracy; the loss when there is no --val; None if not
    measured. With --keep last, every epoch is better than the one before."""
    if options.keep == "last":
        return record["epoch"]
    if not options.val:
        return -record["loss"]
    return record["val"]["accuracy_by_depth"]["leaf"] if "val" in record else None
