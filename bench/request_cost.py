"""Worker-seconds one small bulk request could cost, before and after photos that decode to far
more pixels than the bytes they were sent in were refused (vision.images.MAX_PIXELS_PER_BYTE).

    python -m bench.request_cost --backbone grocery --reference DIR [--threads 1] [--json FILE]

Three archives are built as an attacker builds them: twenty plain 49-megapixel JPEGs deflated into
a zip of about 27 KB; as many plain 5-megapixel JPEGs as a 90 KB zip holds; and, what a request can
still do once bombs are refused, as many of the smallest photos the upload check accepts as the
same 90 KB holds. For each, the photos the upload check accepts before (only the
CATALOG_MAX_PHOTO_PIXELS limit) and after (also the pixels per byte each member took in the
archive), and the worker CPU-seconds they cost: each distinct photo is categorized as the worker
does it (the import's check, a full decode; bench.common.one_pass: decode, items, embeddings,
vote, heatmaps; the display copies) and its time multiplied by how many the archive holds. The
index is built from --reference first (not counted).
"""

import argparse
import io
import time
import zipfile

import torch
from PIL import Image

from bench.common import one_pass, worker_categorizer
from catalog.photos import DISPLAY_SIDES
from vision.figures import write_figures
from vision.images import (
    DEFAULT_MAX_PIXELS,
    MAX_PIXELS_PER_BYTE,
    InvalidImage,
    decode_image,
    load_image,
)
from vision.runtimes import load_segmenter
from vision.segment import DEFAULT_SEGMENTER

BUDGET_BYTES = 90 * 1024


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", required=True)
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument("--segmenter", default=DEFAULT_SEGMENTER,
                        help="the one the worker serves by default, unless 'none' or another is named")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json")
    return parser


def plain_jpeg(side):
    buffer = io.BytesIO()
    Image.new("RGB", (side, side), (90, 140, 200)).save(buffer, "JPEG", quality=75)
    return buffer.getvalue()


def archive(photo, count=None, budget=BUDGET_BYTES):
    """(zip bytes, members) of `count` copies of `photo`, or as many as fit in `budget` bytes."""
    members = []
    while True:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
            for n in range(len(members) + 1):
                zipped.writestr(f"p{n}.jpg", photo)
        if (count is None and len(buffer.getvalue()) > budget) or (count is not None and len(members) == count):
            break
        members.append(f"p{len(members)}.jpg")
        data = buffer.getvalue()
    return data, members


def accepted(data, checked_for_bombs):
    """[(member name, bytes)] the upload check accepts from the archive."""
    taken = []
    with zipfile.ZipFile(io.BytesIO(data)) as zipped:
        for member in zipped.infolist():
            photo = zipped.read(member)
            try:
                decode_image(photo, DEFAULT_MAX_PIXELS, member.compress_size if checked_for_bombs else None)
            except InvalidImage:
                continue
            taken.append((member.filename, photo))
    return taken


def display_copies(photo):
    """What the worker stores beside the result: catalog.photos.store_display_images' JPEGs."""
    image = load_image(photo)
    for side in DISPLAY_SIDES.values():
        resized = image.copy()
        resized.thumbnail((side, side))
        resized.save(io.BytesIO(), "JPEG", quality=85, optimize=True)


def seconds_to_categorize(photo, categorizer, segmenter):
    """CPU-seconds of one photo: the import's check (a full decode), the categorization, the copies."""
    path = f"/tmp/request-cost-{len(photo)}.jpg"
    with open(path, "wb") as handle:
        handle.write(photo)

    def whole_path():
        decode_image(photo, DEFAULT_MAX_PIXELS)
        one_pass([path], categorizer, segmenter)
        display_copies(photo)

    whole_path()  # warm-up at this size
    started = time.process_time()
    whole_path()
    return time.process_time() - started


def smallest_accepted_photo():
    """The smallest photo file the upload check lets through: a plain JPEG 16 pixels a side."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (90, 140, 200)).save(buffer, "JPEG", quality=75)
    return buffer.getvalue()


def main(args):
    _, categorizer = worker_categorizer(args.backbone, args.reference)
    embedder = categorizer.embedder
    segmenter = None if args.segmenter == "none" else load_segmenter(args.segmenter, threads=args.threads)
    torch.set_num_threads(args.threads)

    cases = {
        "twenty 49 MP plain JPEGs": (plain_jpeg(7000), 20),
        "90 KB of 5 MP plain JPEGs": (plain_jpeg(2236), None),
        "90 KB of the smallest photos accepted": (smallest_accepted_photo(), None),
    }
    figures = {"backbone": embedder.weights.version, "threads": args.threads,
               "max_pixels_per_byte": MAX_PIXELS_PER_BYTE, "cases": {}}
    for name, (photo, count) in cases.items():
        data, members = archive(photo, count)
        seconds = seconds_to_categorize(photo, categorizer, segmenter)
        width, height = Image.open(io.BytesIO(photo)).size
        case = {"archive_bytes": len(data), "photos": len(members), "megapixels_each": width * height / 1e6,
                "photo_bytes": len(photo), "cpu_seconds_each": seconds}
        for when, checked in (("before", False), ("after", True)):
            taken = len(accepted(data, checked))
            case[when] = {"photos_accepted": taken, "megapixels_accepted": taken * width * height / 1e6,
                          "worker_cpu_seconds": taken * seconds}
        figures["cases"][name] = case
        print(f"{name}: a {len(data) / 1024:.0f} KB archive of {len(members)} photos "
              f"({seconds:.2f} CPU-s each): before {case['before']['photos_accepted']} accepted, "
              f"{case['before']['worker_cpu_seconds'] / 60:.1f} worker-minutes; after "
              f"{case['after']['photos_accepted']} accepted, {case['after']['worker_cpu_seconds'] / 60:.1f}")
    write_figures(figures, args.json)
    return figures


if __name__ == "__main__":
    main(get_args_parser().parse_args())
