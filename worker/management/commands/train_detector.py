import os
import shlex

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from vision.figures import write_figures
from vision.onnx_runtime import onnx_path
from vision.segment import DEFAULT_SEGMENTER
from vision.training.common import epochs_count

# The fine-tuning recipe where the script's defaults (training from ImageNet) differ: a lower learning
# rate and fewer composites, the catalogue's own photos being what it is for; the last epoch measured
# only. --options come after, so they override it.
FINE_TUNING = ("--lr", "5e-4", "--composites", "200", "--eval-every", "100")


class Command(BaseCommand):
    help = (
        "Adapt the product detector to a catalogue whose photos carry boxes (a COCO instances file beside the "
        "photos, as vision.coco reads it): the shipped detector fine-tuned on them "
        "(vision/training/train_detector.py), saved as NAME, then measured against the one it started from on "
        "the catalogue's own held-out boxed photos. Serve it with CATALOG_SEGMENTER=NAME if it finds at least as "
        "many products with no larger share of its boxes on none. What is saved is the blend of the fine-tuned "
        "network with --init (a share of each), and the score threshold, whose smaller gain over --init in item "
        "recall and item precision, on photos set aside to choose on, is largest; where none gains in both there, "
        "NAME is a copy of --init."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--instances", required=True, help="COCO instances file: the boxed products of each photo")
        parser.add_argument("--photos", help="the folder its file names are relative to (default: photos/ beside it)")
        parser.add_argument("--init", default=DEFAULT_SEGMENTER, help="the detector to start from (the shipped one)")
        parser.add_argument("--epochs", type=epochs_count, default=4)
        parser.add_argument("--options", default="",
                            help='more options of the training script, e.g. --options="--batch-size 8 --resume"')
        parser.add_argument("--json", help="also write the two detectors' figures on the held-out photos to this file")

    def handle(self, name, instances, photos, init, epochs, options, json, **_):
        from vision.onnx_export import export_segmenter
        from vision.training.detector import get_args_parser, photo_parts, train_detector

        if name == init:
            raise CommandError(f"'{name}' is the detector it starts from: give the adapted one a name of its own.")
        photos = photos or os.path.join(os.path.dirname(os.path.abspath(instances)), "photos")
        parser = get_args_parser()
        parser.prog = "train_detector --options"
        try:
            args = parser.parse_args(["--instances", instances, "--photos", photos, "--name", name, "--init", init,
                                      "--epochs", str(epochs), *FINE_TUNING, *shlex.split(options)])
        except SystemExit as error:
            raise CommandError(f"--options: not options of the training script ({options!r})") from error
        try:
            train, tuning, held = photo_parts(args)
            blend = train_detector(args, train, tuning)[-1]["blend"]
        except SystemExit as error:
            raise CommandError(str(error)) from error
        # Where the workers read their models from (training wrote the file beside the weights).
        if settings.CATALOG_ONNX_DIR:
            export_segmenter(name, onnx_path(name, settings.CATALOG_ONNX_DIR))
        before, after = _held_out_figures(init, held), _held_out_figures(name, held)
        write_figures({"held_out_photos": len(held), "share": blend["share"], init: before, name: after}, json)
        self.stdout.write(f"On the {len(held)} boxed photos held out of training (whole occasions):")
        for label, figures in ((init, before), (name, after)):
            self.stdout.write(f"  {label:>24}: item recall {figures['item_recall']:.3f} ({_matched(figures)} of "
                              f"{figures['n_products']} products), item precision {figures['item_precision']:.3f} "
                              f"({figures['unmatched_items']} of {figures['n_predicted']} boxes on no product)")
        serve, text = verdict(name, init, blend, before, after)
        self.stdout.write((self.style.SUCCESS if serve else self.style.WARNING)(text))


def verdict(name, init, blend, before, after):
    """(whether to serve `name`, why in words): `blend` is the fine-tuning's choice, `before` and `after`
    the two detectors' figures on the held-out photos."""
    if blend["share"] == 0:
        return False, (f"Neither the fine-tuned network nor any blend of it with '{init}' found more products and "
                       f"put a smaller share of its boxes on none than '{init}' on the photos set aside to choose on "
                       f"(not the held-out ones above), so '{name}' was saved as a copy of '{init}': keep serving "
                       f"'{init}'.")
    weights = ("the fine-tuned network" if blend["share"] == 1 else
               f"{blend['share']:.0%} the fine-tuned network, {1 - blend['share']:.0%} '{init}'")
    chosen = f"('{name}': {weights}, at threshold {blend['threshold']:.2f})"
    worse = _worse(before, after, init)
    if worse:
        return False, f"'{name}' {' and '.join(worse)}: keep serving '{init}'. {chosen}"
    return True, (f"'{name}' finds this catalogue's products at least as well: serve it with "
                  f"CATALOG_SEGMENTER={name}. {chosen}")


def _worse(before, after, init):
    """What the adapted detector does worse on the held-out photos than `init`, the one it started from, in words."""
    worse = []
    if _matched(after) < _matched(before):  # the same products: their counts compare
        worse.append(f"finds fewer of these products than '{init}'")
    if _matched(after) * before["n_predicted"] < _matched(before) * after["n_predicted"]:  # precisions, unrounded
        worse.append(f"puts a larger share of its boxes on no product than '{init}'")
    return worse


def _matched(figures):
    return figures["n_predicted"] - figures["unmatched_items"]


def _held_out_figures(name, photos):
    from vision.training.detector import detector_figures
    from vision.unet import load_segmenter

    [figures] = detector_figures(load_segmenter(name, device="cpu"), photos).values()
    return figures

