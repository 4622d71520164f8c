"""Read the text on every photo of a folder tree into a JSON file (vision.text), e.g. to measure
text re-ranking (bench.text_rerank) without reading the photos again each time.

    python -m vision.read_text DIR --json words.json     # resumable: a stopped run goes on
"""

import argparse
import json
from pathlib import Path

from .images import is_image_filename, load_image
from .text import TextReader


def read_tree(directory, output, reader=None, save_every=50):
    """{relative path: [Line]} of every image under `directory` (each Line as [text, score, box];
    files written before boxes were kept hold [text, score], which words_read reads alike),
    saved to `output` as it goes; paths already in `output` are not read again (a stopped run goes
    on)."""
    reader = reader or TextReader()
    root, output = Path(directory), Path(output)
    found = json.loads(output.read_text()) if output.exists() else {}
    paths = sorted(p for p in root.rglob("*") if is_image_filename(p.name))
    todo = [p for p in paths if str(p.relative_to(root)) not in found]
    for number, path in enumerate(todo, start=1):
        with open(path, "rb") as handle:
            found[str(path.relative_to(root))] = reader.read(load_image(handle))
        if number % save_every == 0 or number == len(todo):
            output.write_text(json.dumps(found, sort_keys=True, indent=0))
            print(f"{len(found)}/{len(paths)} read", flush=True)
    return found


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory")
    parser.add_argument("--json", required=True, help="where the words go (and where a stopped run goes on from)")
    return parser


if __name__ == "__main__":
    arguments = get_args_parser().parse_args()
    read_tree(arguments.directory, arguments.json)
