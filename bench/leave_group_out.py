"""A catalogue the product detector never saw, made from the Freiburg groceries: one top-level group
left out.

    python -m bench.leave_group_out [--group Breakfast] --out DIR

writes DIR/without.json (the boxed photos of every other group: what a detector is trained on from
ImageNet) and DIR/group.json (the left-out group's photos: the new catalogue `manage.py
train_detector` adapts it to), COCO instances files whose file names stay relative to the Freiburg
photos folder. Every Freiburg photo's boxes are of its own group's products, so a detector trained on
without.json saw none of the group's photos; Breakfast (cereal, honey, jam) has no counterpart either
among the Grocery packshots its composites are made of (juice and dairy cartons, fruit, vegetables).
The UNet whose foreground drops boxes beside it saw every group. bench/README.md, "One box per
product", has the run (`bench/run_items.sh detector-adapt`).
"""

import argparse
import json
import os

from bench.common import FREIBURG


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--group", default="Breakfast", help="the top-level folder left out")
    parser.add_argument("--instances", default=os.path.join(FREIBURG, "instances.json"))
    parser.add_argument("--out", required=True)
    return parser


def main(args):
    with open(args.instances) as handle:
        instances = json.load(handle)
    os.makedirs(args.out, exist_ok=True)
    in_group = {image["id"] for image in instances["images"] if image["file_name"].split("/")[0] == args.group}
    if not in_group:
        raise SystemExit(f"No photo of {args.instances} lies under a folder '{args.group}'.")
    for name, keep in (("without", lambda i: i not in in_group), ("group", lambda i: i in in_group)):
        part = {"images": [image for image in instances["images"] if keep(image["id"])],
                "annotations": [box for box in instances["annotations"] if keep(box["image_id"])],
                "categories": instances["categories"]}
        with open(os.path.join(args.out, f"{name}.json"), "w") as handle:
            json.dump(part, handle)
        print(f"{name}.json: {len(part['images'])} photos, {len(part['annotations'])} boxes")


if __name__ == "__main__":
    main(get_args_parser().parse_args())
