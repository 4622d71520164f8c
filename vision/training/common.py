"""What the training scripts share: the learning-rate schedule, checkpoints with resume, the
precision and threads a step runs with, and the check of --epochs."""

import argparse
import contextlib
import functools
import json
import math
import os
import sys
import time

import torch

from vision.encoder import DEFAULT_ENCODER
from vision.files import replaced_atomically


def lr_lambda(total_steps, warmup_steps):
    """Linear warm-up, then cosine decay to zero."""
    def factor(step):
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        return 0.5 * (1 + math.cos(math.pi * (step - warmup_steps) / max(1, total_steps - warmup_steps)))
    return factor


def epochs_count(text):
    """A number of epochs (--epochs, --eval-every): a run of no epoch would have nothing to save,
    and validation every 0 epochs would never come (it divided by zero after the first)."""
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(epochs_refusal(text))
    return count


def epochs_refusal(value):
    """Why `value` epochs are refused (by the command line and by the training task's options)."""
    return f"must be a whole number of epochs, at least 1 (not {value!r})"


# Checkpoints live outside the clone, so that a run outlives the checkout it was started from.
TRAINING_DIR = os.path.join(os.path.expanduser("~"), ".cache", "catalog-training")


def output_dir_for(args):
    """Where a run keeps its checkpoint and log: --output-dir, or TRAINING_DIR/NAME. Created; a run
    that is not resumed starts its log afresh (it does not go on from the run before it, whose
    epochs would otherwise read as its own)."""
    output_dir = args.output_dir or os.path.join(TRAINING_DIR, args.name)
    os.makedirs(output_dir, exist_ok=True)
    if not args.resume:
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(output_dir, "log.jsonl"))
    return output_dir


def save_atomically(contents, path):
    """torch.save so that readers, and a run resumed after a crash, never see half a file."""
    with replaced_atomically(path) as tmp:
        torch.save(contents, tmp)


def save_checkpoint(path, state, history, best):
    contents = {name: part.state_dict() for name, part in state.items()}
    save_atomically(contents | {"history": json.dumps(history), "best": best} | _random_state(), path)


def _random_state():
    """The random generators' state: a run resumed after an epoch goes on drawing the shuffles and
    augmentations an uninterrupted run would, not those of its first epochs again. Bit for bit with
    --workers 0 only: loader workers are seeded as they start, which a resumed run does later in
    the generator's sequence (its draws differ then, but are not its first epochs' again)."""
    state = {"rng": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda_rng"] = torch.cuda.get_rng_state_all()
    return state


def load_checkpoint(path, state, device):
    """Restore `state` from the last checkpoint if there is one; return (history, best)."""
    if not os.path.exists(path):
        return [], -math.inf
    checkpoint = torch.load(path, map_location=device, weights_only=True)
    for name, part in state.items():
        part.load_state_dict(checkpoint[name])
    history = json.loads(checkpoint["history"])
    if "rng" in checkpoint:  # checkpoints saved before they kept it start the generators afresh
        torch.set_rng_state(checkpoint["rng"].cpu())
    if "cuda_rng" in checkpoint and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([state.cpu() for state in checkpoint["cuda_rng"]])
    print(f"resumed from {path} after epoch {history[-1]['epoch']}", file=sys.stderr)
    return history, checkpoint["best"]


def take_architecture(args, start, default_input_size=256):
    """Set args.encoder and args.input_size (None where not given): a run that continues `start`,
    the trained segmenter or detector --init names, builds its encoder and sees photos at its input
    size unless --input-size says another; one from ImageNet, DEFAULT_ENCODER at
    `default_input_size` unless told otherwise."""
    if start is None:
        args.encoder = args.encoder or DEFAULT_ENCODER
        args.input_size = args.input_size or default_input_size
        return
    if args.encoder and args.encoder != start.encoder_name:
        raise SystemExit(f"--init {args.init} is built on {start.encoder_name}: it cannot go on as --encoder "
                         f"{args.encoder} (leave --encoder out).")
    args.encoder, args.input_size = start.encoder_name, args.input_size or start.input_size


def freeze_encoder_but_last(model, count):
    """`model` (a UNet or a detector: vision.encoder.Encoder as `model.encoder`) with its encoder
    frozen but its last `count` blocks; the rest of the model trains."""
    for parameter in model.encoder.parameters():
        parameter.requires_grad = False
    for block in trained_blocks(model, count):
        for parameter in block.parameters():
            parameter.requires_grad = True
    return model


def trained_blocks(model, count):
    """The last `count` encoder blocks: all of them with more than there are, or with a negative
    count (as the embedder's --train-blocks -1); none with 0."""
    blocks = list(model.encoder.trunk._blocks)
    return blocks if count < 0 else blocks[-count:] if count else []


def set_train_mode(model, count):
    """Train mode, but for the frozen encoder blocks, which keep their ImageNet batch statistics."""
    model.train()
    model.encoder.eval()
    for block in trained_blocks(model, count):
        block.train()


def half_precision(state_dict):
    """Floating-point tensors stored as fp16: the shipped files stay a few MB."""
    return {k: v.half() if v.is_floating_point() else v for k, v in state_dict.items()}


class Progress:
    """How far a run is: after each epoch, about how long the rest will take, from the mean wall
    time of the epochs of this sitting (validation included)."""

    def __init__(self, first_epoch, epochs):
        self.first_epoch, self.epochs, self.started = first_epoch, epochs, time.perf_counter()

    def stamp(self, record):
        """`record` with `seconds_left`: the epochs still to run times this sitting's mean epoch,
        rounded up, so that it is 0 only when no epoch is left (epochs of tests last a fraction
        of a second)."""
        done = record["epoch"] + 1
        per_epoch = (time.perf_counter() - self.started) / (done - self.first_epoch)
        return record | {"seconds_left": math.ceil(per_epoch * (self.epochs - done))}

    def text(self, record):
        done, left = record["epoch"] + 1, record["seconds_left"]
        return f"epoch {done} of {self.epochs} done" + (f"; about {duration_text(left)} to go" if left else "")


def duration_text(seconds):
    minutes = round(seconds / 60)
    if minutes < 1:
        return "a minute"
    if minutes < 90:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{minutes / 60:.1f} hours"


def log_epoch(output_dir, record, progress):
    """Print and append an epoch's record (stamped with the time left) to output_dir/log.jsonl."""
    record = progress.stamp(record)
    append_log(output_dir, record)
    print(progress.text(record), file=sys.stderr, flush=True)
    return record


def append_log(output_dir, record):
    """Print `record` and append it to output_dir/log.jsonl."""
    print(json.dumps(record), flush=True)
    with open(os.path.join(output_dir, "log.jsonl"), "a") as log:
        log.write(json.dumps(record) + "\n")


def optimise_epoch(loader, batch_loss, optimizer, scheduler, epoch, max_steps=None):
    """One optimizer step per batch of `loader` (at most `max_steps`); returns the epoch's log record.
    Refuses a loader of no whole batch (it drops the last, partial one): the run would save the
    untrained weights as trained."""
    if len(loader) == 0:
        raise SystemExit(f"{len(loader.dataset)} training images: fewer than one batch of {loader.batch_size}; "
                         "lower --batch-size.")
    total, steps, started = 0.0, 0, time.perf_counter()
    for step, batch in enumerate(loader):
        if max_steps is not None and step >= max_steps:
            break
        loss = batch_loss(*batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        total, steps = total + loss.item(), steps + 1
        if step % 10 == 0:
            print(f"epoch {epoch} step {step}/{len(loader)} loss {loss.item():.3f}", file=sys.stderr, flush=True)
    return {"loss": total / max(steps, 1), "seconds": time.perf_counter() - started}


@functools.cache
def cpu_has_bf16():
    """Whether this CPU has bf16 arithmetic units (AVX512-BF16 or AMX), where bf16 autocast pays."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            flags = cpuinfo.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def add_precision_argument(parser):
    parser.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto",
                        help="bf16 autocast with fp32 master weights; auto: where the CPU or GPU has bf16 units")


def autocast(device, precision):
    """bf16 autocast for the forward pass ("auto": where the hardware runs it fast); the weights,
    their gradients and the optimizer stay fp32."""
    if precision == "auto":
        fast = torch.cuda.is_bf16_supported() if device.type == "cuda" else cpu_has_bf16()
        precision = "bf16" if fast else "fp32"
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


def use_all_cores():
    """Intra-op threads for every core this process may run on (a container's share, not the host's)."""
    torch.set_num_threads(len(os.sched_getaffinity(0)))
