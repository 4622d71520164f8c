"""Suggested titles on the Grocery iconic packshots: how many name their product, and whether a
packshot with no text on it (loose fruit and vegetables) gets a title at all.

    python -m bench.title_quality --iconic DIR [--photos DIR] [--reads FILE] [--json FILE]

Each packshot is read with the app's OCR (vision.text.TextReader), or its lines are taken from
--reads (this bench's own JSON, which keeps them), and given the title the app would suggest
(vision.text.suggest_title). A title names its product when it holds a word of the packshot's
title, brand or shop name (vision.catalogue.described_product_words, names_product). Packshots
whose information names a manufacturer carry a package's print; the others (fruit and
vegetables) carry none that names the product, and should get no title. With --photos (a Grocery
split, e.g. val: shop photos of the same products, none of which chose the word check), each
photo is judged against the description of its leaf instead.
"""

import argparse
import json
from pathlib import Path

from vision.catalogue import described_product_words, names_product
from vision.figures import write_figures
from vision.images import load_image
from vision.text import Line, TextReader, is_readable, suggest_title


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iconic", required=True, help="Grocery's iconic-images-and-descriptions folder")
    parser.add_argument("--photos", help="a Grocery split's folder to read instead of the packshots")
    parser.add_argument("--reads", help="the lines read, from an earlier run's --json (no OCR run)")
    parser.add_argument("--json")
    return parser


def has_package(folder):
    return any("Manufacturer" in path.read_text(errors="replace") for path in folder.glob("*_Information.txt"))


def main(args):
    root = Path(args.iconic)
    known = json.loads(Path(args.reads).read_text())["photos"] if args.reads else {}
    reader = None if args.reads else TextReader()
    photos = {}
    base = Path(args.photos) if args.photos else root
    for path in sorted(base.rglob("*.jpg") if args.photos else root.rglob("*_Iconic.jpg")):
        name = str(path.relative_to(base))
        described = root / path.parent.relative_to(base)
        lines = known[name]["lines"] if args.reads else [[line.text, line.score, list(line.box)]
                                                          for line in reader.read(load_image(path))]
        title = suggest_title([Line(text, score, tuple(box)) for text, score, box in lines])
        words = described_product_words(described)
        photos[name] = {"package": has_package(described), "title": title,
                        "names_product": names_product(title, words),
                        "shown": [text for text, score, _ in lines if is_readable(text, score)], "lines": lines}
    packages = [photo for photo in photos.values() if photo["package"]]
    loose = [photo for photo in photos.values() if not photo["package"]]
    figures = {
        "packages": len(packages),
        "packages_titled": sum(bool(photo["title"]) for photo in packages),
        "packages_named": sum(photo["names_product"] for photo in packages),
        "share_named": sum(photo["names_product"] for photo in packages) / len(packages),
        "without_print": len(loose),
        "without_print_titled": sum(bool(photo["title"]) for photo in loose),
        "photos": photos,
    }
    print(f"{figures['packages_named']} of {figures['packages']} package titles name the product "
          f"({figures['share_named']:.0%}); {figures['without_print_titled']} of {figures['without_print']} "
          "packshots without print got a title")
    write_figures(figures, args.json)
    return figures


if __name__ == "__main__":
    main(get_args_parser().parse_args())
