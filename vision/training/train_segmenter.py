"""Train the item segmenter (vision/segment.py): ECSSD photos, generated composites and real
photos with boxed products.

    python -m vision.training.train_segmenter --ecssd DIR --cut-outs DIR --name NAME [--epochs N] [--resume]
        [--instances FILE.json --photos DIR]

ECSSD teaches what a photo's subject looks like against real backgrounds; composites of
product cut-outs, 1–4 per image and often touching, teach where one item ends and the next
begins; real shop photos with every product boxed (a COCO instances file, e.g. Freiburg
groceries) teach that hands, shelf edges and price labels are not items and that products side
by side are one item each. Boxes are weak supervision: each box is taken as its product's mask.
Every fifth ECSSD photo is held out for validation (the same split
`python -m vision.evaluate_segmentation --split val` measures), composites for validation use
those photos' backgrounds and a seed training never uses, and the boxed photos' validation part
(vision.coco.validation_part) is never trained on: `vision.evaluate_items` measures on it.
"""

import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage
from torch.utils.data import ConcatDataset, DataLoader, Dataset
from torchvision import tv_tensors
from torchvision.transforms import v2 as T

from ..arguments import whole_number
from ..boxes import box_area
from ..coco import load_instances, validation_part
from ..composites import DEFAULT_CUT_OUTS, DEFAULT_ECSSD, composite_generator, load_mask, split_folder_pairs
from ..encoder import DEFAULT_ENCODER, input_transform
from ..images import load_image
from ..onnx_export import export_segmenter
from ..onnx_runtime import onnx_dir
from ..segment import normalised_distance
from ..segmenter_figures import evaluate_composites, evaluate_masks
from ..unet import TorchSegmenter, load_segmenter, segmenter_path, unet
from .common import (Progress, add_precision_argument, autocast, epochs_count, freeze_encoder_but_last, half_precision,
                     load_checkpoint, log_epoch, lr_lambda, optimise_epoch, output_dir_for, save_atomically,
                     save_checkpoint, set_train_mode, take_architecture)

VALIDATION_SEED = 1000


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ecssd", default=DEFAULT_ECSSD, help="folder with images/ and masks/")
    parser.add_argument("--cut-outs", default=DEFAULT_CUT_OUTS, help="packshots on white to make composites of")
    parser.add_argument("--name", required=True, help="save as vision/weights/segmenters/NAME.pt")
    parser.add_argument("--encoder", help=f"default: {DEFAULT_ENCODER}, or with --init the one it was built on")
    parser.add_argument("--init", help="start from this trained segmenter's weights (e.g. unet_lite0) instead of "
                                       "the ImageNet encoder alone, to train it further")
    parser.add_argument("--train-blocks", type=int, default=8,
                        help="encoder blocks trained, from the deepest (-1: all)")
    parser.add_argument("--input-size", type=int, help="default: 256, or with --init the one it was trained at")
    parser.add_argument("--composites", type=whole_number(0), default=800, help="new composites per epoch (0: none)")
    parser.add_argument("--instances", help="COCO instances file of real photos with boxed products")
    parser.add_argument("--photos", help="the folder the instances' file names are relative to")
    parser.add_argument("--boxed-per-epoch", type=int, default=1200,
                        help="boxed photos drawn afresh from the training part each epoch")
    parser.add_argument("--val-composites", type=int, default=200)
    parser.add_argument("--epochs", type=epochs_count, default=9)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3, help="decoder learning rate (encoder: 10× lower)")
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--eval-every", type=epochs_count, default=3,
                        help="epochs between validation runs (the last epoch is always validated)")
    parser.add_argument("--keep", choices=("best", "last"), default="best",
                        help="the epoch saved: the best by ECSSD validation IoU + item F1 on validation "
                             "composites, or the last")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--device", default=None)
    add_precision_argument(parser)
    parser.add_argument("--max-steps", type=int, default=None, help="stop each epoch after this many steps (tests)")
    parser.add_argument("--limit", type=int, default=None,
                        help="use only this many ECSSD photos of each part, and of boxed photos (tests)")
    parser.add_argument("--output-dir", default=None,
                        help="checkpoints and log (default: ~/.cache/catalog-training/NAME)")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    return parser


def targets(labels):
    """(foreground, distance) training maps from an instance label map (0 is background)."""
    return torch.from_numpy(labels > 0).float(), torch.from_numpy(normalised_distance(labels))


class PhotoMaskDataset(Dataset):
    """Photos with one binary mask each; its connected parts are taken as the items."""

    def __init__(self, pairs, size):
        self.pairs = pairs
        self.augment = self.augmentation(size)
        self.finish = input_transform(size)

    @staticmethod
    def augmentation(size):
        return T.Compose([
            T.RandomResizedCrop(size, scale=(0.5, 1.0), ratio=(0.6, 1.6), antialias=True),
            T.RandomHorizontalFlip(),
            T.ColorJitter(brightness=0.3, contrast=0.3, saturation=0.3, hue=0.03),
        ])

    def __len__(self):
        return len(self.pairs)

    def __getitem__(self, i):
        image_path, mask_path = self.pairs[i]
        mask = tv_tensors.Mask(torch.from_numpy(load_mask(mask_path).astype(np.uint8)))
        image, mask = self.augment(T.functional.to_image(load_image(image_path)), mask)
        labels, _ = ndimage.label(mask.numpy())
        return (self.finish(image), *targets(labels))


class BoxedPhotoDataset(Dataset):
    """Real photos whose products are boxed (vision.coco.LabelledPhoto); each box is taken as its
    product's mask, smaller boxes in front of larger ones (what overlaps is usually the nearer)."""

    def __init__(self, photos, size):
        self.photos = photos
        self.augment = PhotoMaskDataset.augmentation(size)
        self.finish = input_transform(size)

    def __len__(self):
        return len(self.photos)

    def __getitem__(self, i):
        photo = self.photos[i]
        image = load_image(photo.path)
        labels = box_labels(photo.products, image.size)
        image, labels = self.augment(T.functional.to_image(image), tv_tensors.Mask(torch.from_numpy(labels)))
        return (self.finish(image), *targets(labels.numpy().astype(np.int32)))


def box_labels(products, size):
    """(H, W) uint8 instance labels of boxed products in an image of `size` (W, H): 0 is background."""
    labels = np.zeros(size[::-1], np.uint8)
    by_area = sorted(products, key=lambda product: box_area(product.box), reverse=True)
    for number, product in enumerate(by_area[:255], start=1):
        left, top, right, bottom = (round(v) for v in product.box)
        labels[max(top, 0):bottom, max(left, 0):right] = number
    return labels


class CompositeDataset(Dataset):
    def __init__(self, generator, count, first=0):
        self.generator, self.count, self.first = generator, count, first
        self.finish = input_transform(generator.size)

    def __len__(self):
        return self.count

    def __getitem__(self, i):
        composite = self.generator(self.first + i)
        return (self.finish(composite.image), *targets(composite.labels()))


def segmentation_loss(logits, foreground, distance):
    """BCE + soft Dice on the foreground; BCE on the distance map."""
    foreground_logits, distance_logits = logits[:, 0], logits[:, 1]
    probabilities = torch.sigmoid(foreground_logits)
    overlap = (probabilities * foreground).sum((1, 2))
    dice = 1 - (2 * overlap + 1) / (probabilities.sum((1, 2)) + foreground.sum((1, 2)) + 1)
    return (F.binary_cross_entropy_with_logits(foreground_logits, foreground) + dice.mean()
            + F.binary_cross_entropy_with_logits(distance_logits, distance))


def starting_segmenter(args, device=None):
    """The trained UNet --init names (None without), its encoder and input size taken as the run's
    (take_architecture)."""
    start = load_segmenter(args.init, device=device) if args.init else None
    if start is not None and start.finds_instances:
        raise SystemExit(f"--init {args.init} is a product detector: train it with vision.training.train_detector, "
                         "or name a UNet segmenter here (e.g. unet_lite0_real).")
    take_architecture(args, start)
    return start


def make_model(args, start):
    return freeze_encoder_but_last(start.model if start is not None else unet(args.encoder), args.train_blocks)


def train_one_epoch(model, optimizer, scheduler, loader, device, epoch, args):
    set_train_mode(model, args.train_blocks)

    def batch_loss(images, foreground, distance):
        with autocast(device, args.precision):
            logits = model(images.to(device, memory_format=torch.channels_last))
        # The loss in fp32: Dice sums over whole maps.
        return segmentation_loss(logits.float(), foreground.to(device), distance.to(device))

    return optimise_epoch(loader, batch_loss, optimizer, scheduler, epoch, args.max_steps)


def evaluate(model, val_pairs, val_generator, args, device):
    segmenter = TorchSegmenter(model.eval(), "in training", args.input_size, device=device)
    figures = evaluate_masks(segmenter, val_pairs) | evaluate_composites(segmenter, val_generator, args.val_composites)
    return {key: figures[key] for key in ("mean_iou", "f_measure", "item_precision", "item_recall",
                                          "touching_split_rate")}


def epoch_quality(record, args):
    """What picks the saved epoch: ECSSD IoU plus the items' F1 on composites; None if not measured.
    With --keep last, every epoch is better than the one before."""
    if args.keep == "last":
        return record["epoch"]
    if "val" not in record:
        return None
    val = record["val"]
    precision, recall = val["item_precision"], val["item_recall"]
    return val["mean_iou"] + (2 * precision * recall / (precision + recall) if precision + recall else 0.0)


def save_weights(model, args, history):
    trained = {name for name, p in model.named_parameters() if p.requires_grad}
    modules = {name.rsplit(".", 1)[0] for name in trained}
    # Batch-norm statistics of trained modules changed too, so keep every tensor under them.
    state = {k: v for k, v in model.state_dict().items() if k.rsplit(".", 1)[0] in modules}
    path = segmenter_path(args.name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    save_atomically({"encoder": args.encoder, "input_size": args.input_size, "state_dict": half_precision(state),
                     "history": history}, path)
    # And as ONNX Runtime serves it, beside it.
    export_segmenter(args.name, os.path.join(onnx_dir(), f"{args.name}.onnx"))


def datasets(args):
    pairs = split_folder_pairs(args.ecssd)
    pairs = {split: listed[:args.limit] for split, listed in pairs.items()}
    train_generator = composite_generator(args.cut_outs, args.ecssd, args.input_size, args.seed, "train")
    val_generator = composite_generator(args.cut_outs, args.ecssd, args.input_size, VALIDATION_SEED, "val")
    return pairs, train_generator, val_generator, boxed_training_photos(args)


def boxed_training_photos(args):
    """The boxed photos outside their validation part, with products boxed; [] without --instances."""
    if not args.instances:
        return []
    if not args.photos:
        raise SystemExit("--instances needs --photos, the folder its file names are relative to.")
    rest, held = validation_part(load_instances(args.instances, args.photos))
    photos = [photo for photo in rest if photo.products and os.path.isfile(photo.path)]
    print(f"{len(photos)} boxed photos to train on ({len(held)} kept for validation)", file=sys.stderr)
    return photos[:args.limit]


def boxed_sample(photos, count, epoch, seed):
    """`count` of the boxed photos, a different draw each epoch (all of them when fewer)."""
    if len(photos) <= count:
        return photos
    chosen = np.random.default_rng([seed, epoch]).choice(len(photos), count, replace=False)
    return [photos[i] for i in sorted(chosen)]


def main(args):
    torch.manual_seed(args.seed)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    output_dir = output_dir_for(args)
    start = starting_segmenter(args, device)
    pairs, train_generator, val_generator, boxed = datasets(args)

    model = make_model(args, start).to(device, memory_format=torch.channels_last)
    encoder_params = [p for p in model.encoder.parameters() if p.requires_grad]
    decoder_params = [p for name, p in model.named_parameters() if not name.startswith("encoder.")]
    optimizer = torch.optim.AdamW([{"params": encoder_params, "lr": args.lr / 10},
                                   {"params": decoder_params, "lr": args.lr}], weight_decay=args.weight_decay)
    steps_per_epoch = (len(pairs["train"]) + args.composites + min(len(boxed), args.boxed_per_epoch)) // args.batch_size
    steps_per_epoch = min(steps_per_epoch, args.max_steps or steps_per_epoch)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lr_lambda(args.epochs * steps_per_epoch, steps_per_epoch))
    state = {"model": model, "optimizer": optimizer, "scheduler": scheduler}
    checkpoint_path = os.path.join(output_dir, "checkpoint.pt")
    history, best = load_checkpoint(checkpoint_path, state, device) if args.resume else ([], -float("inf"))
    progress = Progress(len(history), args.epochs)
    for epoch in range(len(history), args.epochs):
        # Fresh composites every epoch: the generator is cheap and endless.
        data = ConcatDataset([PhotoMaskDataset(pairs["train"], args.input_size),
                              CompositeDataset(train_generator, args.composites, epoch * args.composites),
                              BoxedPhotoDataset(boxed_sample(boxed, args.boxed_per_epoch, epoch, args.seed),
                                                args.input_size)])
        loader = DataLoader(data, batch_size=args.batch_size, shuffle=True, drop_last=True,
                            num_workers=args.workers)
        record = {"epoch": epoch} | train_one_epoch(model, optimizer, scheduler, loader, device, epoch, args)
        if (epoch + 1) % args.eval_every == 0 or epoch == args.epochs - 1:
            record["val"] = evaluate(model, pairs["val"], val_generator, args, device)
        history.append(log_epoch(output_dir, record, progress))
        quality = epoch_quality(record, args)
        if quality is not None and quality > best:
            best = quality
            save_weights(model, args, history)
        save_checkpoint(checkpoint_path, state, history, best)
    return history


if __name__ == "__main__":
    main(get_args_parser().parse_args())
