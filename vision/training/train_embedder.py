"""Adapt a backbone to a catalogue with a hierarchical normalized-softmax (proxy) loss.

    python -m vision.training.train_embedder --data TRAIN_DIR [--val VAL_DIR] [--extra DIR ...]
        --name NAME [--epochs N] [--train-blocks N] [--holdout-fraction F] [--keep last] [--resume]

The last `--train-blocks` stages of the backbone and a 1×1 projection of its feature map are
trained so that embeddings of the same category gather around a learned proxy, with a loss at
every level of the category tree (a wrong leaf under the right parent costs less). The result,
vision/weights/NAME.pt, is a registered backbone: categorization still works by k nearest
references, so new categories and corrections still need no retraining. The file records the
content key of every photo it trained on, so evaluations and calibrations can leave them out;
`--holdout-fraction` keeps a stratified part of --data (every leaf) out of training for that.
"""

import argparse

from ..catalogue import scan_catalogue
from .embedder import add_training_arguments, options_from, train


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="training catalogue (folder tree)")
    return add_training_arguments(parser)


def main(args):
    return train(scan_catalogue(args.data), options_from(args), source=args.data)


if __name__ == "__main__":
    main(get_args_parser().parse_args())
