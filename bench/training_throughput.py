"""Training images per second of train_embedder's step, per configuration (blocks trained × precision).

    python -m bench.training_throughput [--backbone efficientnet_lite0] [--steps 8] [--json FILE]

Each configuration runs the script's own model, loss, optimizer and forward (bf16 autocast and
channels_last where asked) on batches of 32 random 224-px images for --steps steps after 2 of
warm-up; decoding and augmentation are left out (the script decodes each photo once per run).
"""

import argparse
import time

import torch

from vision.figures import write_figures
from vision.training.common import use_all_cores
from vision.training.embedder import (
    ProxyLoss,
    add_training_arguments,
    make_model,
    parameter_groups,
    set_train_mode,
    train_one_epoch,
    trained_blocks_text,
)

CONFIGURATIONS = [("4", "fp32"), ("4", "bf16"), ("-1", "fp32"), ("-1", "bf16")]
LEVELS = [3, 20, 81]  # Grocery's tree: top level, parents, leaves


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--json")
    return parser


def images_per_second(args, blocks, precision):
    training = add_training_arguments(argparse.ArgumentParser()).parse_args([
        "--name", "throughput", "--backbone", args.backbone, "--train-blocks", blocks,
        "--precision", precision, "--batch-size", str(args.batch_size), "--layer-decay", "0.85"])
    device = torch.device("cpu")
    model = make_model(training).to(device, memory_format=torch.channels_last)
    criterion = ProxyLoss(training.projection_dim, LEVELS, [0.25, 0.5, 1.0], training.temperature,
                          training.label_smoothing)
    optimizer = torch.optim.AdamW(parameter_groups(model, criterion, training))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    size = model.weights.crop_size
    batches = [(torch.randn(args.batch_size, 3, size, size),
                torch.stack([torch.randint(0, n, (args.batch_size,)) for n in LEVELS], dim=1))
               for _ in range(2)]
    set_train_mode(model, training)
    train_one_epoch(model, criterion, optimizer, scheduler, batches, device, 0, training)  # warm-up
    started = time.perf_counter()
    train_one_epoch(model, criterion, optimizer, scheduler, batches * (args.steps // 2), device, 0, training)
    return args.batch_size * (args.steps // 2) * 2 / (time.perf_counter() - started)


def main(args):
    use_all_cores()
    figures = {"backbone": args.backbone, "threads": torch.get_num_threads(), "batch_size": args.batch_size,
               "images_per_second": {}}
    for blocks, precision in CONFIGURATIONS:
        rate = images_per_second(args, blocks, precision)
        name = f"{trained_blocks_text(int(blocks))}, {precision}"
        figures["images_per_second"][name] = rate
        print(f"{name:<22} {rate:6.1f} images/s", flush=True)
    write_figures(figures, args.json)
    return figures


if __name__ == "__main__":
    main(get_args_parser().parse_args())
