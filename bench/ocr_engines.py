"""Which OCR engine reads the Grocery packages: speed and word recall of the installable engines.

    python -m bench.ocr_engines [--photos 36] [--json bench/results/ocr-engines.json]

Photos: Grocery val package photos, spread evenly over the package leaves. The words a package
should show are its brand and title from the dataset's product information
(iconic-images-and-descriptions/.../*_Information.txt: "Title: Äpple Juice", "Manufacturer and
volume: BRAVO , 2l"), folded to ASCII lower case, of 3 letters or more. A word counts as read when
a word the engine read is within one edit of it (OCR drops or swaps a letter: "vanil", "MJOLK").

Reported per engine: mean seconds per photo (wall, this machine, the engine's default threads),
word recall (expected words read / expected words), and photos with at least one expected word
read. Engines, each when installed (the two RapidOCR packages share a module name, so run this in
one environment per package): RapidOCR 1.4 (PP-OCRv4 ONNX models inside the
`rapidocr-onnxruntime` wheel), RapidOCR 3 (PP-OCRv6 small models inside the `rapidocr` wheel) and
Tesseract 5 (Debian `tesseract-ocr` with the English and Swedish models, sparse-text layout).
"""

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from vision.text import words_of

GROCERY = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "grocery-store" / "dataset"


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=36)
    parser.add_argument("--json")
    return parser


def expected_words(leaf):
    """Brand and title words of a package leaf (e.g. Packages/Juice/Bravo-Apple-Juice)."""
    information = next((GROCERY / "iconic-images-and-descriptions" / leaf).glob("*_Information.txt"))
    fields = dict(line.split(":", 1) for line in information.read_text().splitlines() if ":" in line)
    brand = fields.get("Manufacturer and volume", "").split(",")[0]
    return sorted(set(words_of(fields.get("Title", "") + " " + brand)))


def package_photos(count):
    leaves = sorted(path.relative_to(GROCERY / "val") for path in (GROCERY / "val" / "Packages").glob("*/*")
                    if path.is_dir())
    per_leaf = {leaf: sorted((GROCERY / "val" / leaf).glob("*.jpg")) for leaf in leaves}
    chosen = []
    for index in range(count):
        leaf = leaves[index % len(leaves)]
        if index // len(leaves) < len(per_leaf[leaf]):
            chosen.append((leaf, per_leaf[leaf][index // len(leaves)]))
    return chosen


def rapidocr_engine():
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError:
        return None
    engine = RapidOCR()
    return lambda path: " ".join(text for _, text, _ in (engine(str(path))[0] or []))


def rapidocr3_engine():
    try:
        from rapidocr import RapidOCR
    except ImportError:
        return None
    engine = RapidOCR()
    return lambda path: " ".join(engine(str(path)).txts or ())


def tesseract_engine():
    if shutil.which("tesseract") is None:
        return None
    return lambda path: subprocess.run(["tesseract", str(path), "stdout", "-l", "swe+eng", "--psm", "11"],
                                       capture_output=True, text=True, check=True).stdout


def within_one_edit(a, b):
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) <= 1
    short, long_ = sorted((a, b), key=len)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def measure(read, photos):
    seconds, expected_total, found_total, photos_with_a_word, samples = 0.0, 0, 0, 0, []
    for leaf, path in photos:
        started = time.perf_counter()
        words = words_of(read(path))
        seconds += time.perf_counter() - started
        expected = expected_words(leaf)
        found = [word for word in expected if any(within_one_edit(word, read_word) for read_word in words)]
        expected_total, found_total = expected_total + len(expected), found_total + len(found)
        photos_with_a_word += bool(found)
        samples.append({"photo": str(path.relative_to(GROCERY)), "expected": expected, "found": found,
                        "read": words[:20]})
    return {"photos": len(photos), "seconds_per_photo": round(seconds / len(photos), 3),
            "word_recall": round(found_total / max(1, expected_total), 3),
            "photos_with_an_expected_word": round(photos_with_a_word / len(photos), 3), "samples": samples}


def main(args):
    photos = package_photos(args.photos)
    # Engines measured in another environment (see above) stay in the file.
    report = json.loads(Path(args.json).read_text()) if args.json and Path(args.json).exists() else {}
    engines = (("rapidocr-onnxruntime 1.4.4 (PP-OCRv4)", rapidocr_engine()),
               ("rapidocr 3 (PP-OCRv6)", rapidocr3_engine()),
               ("tesseract 5 (--psm 11, swe+eng)", tesseract_engine()))
    for name, engine in engines:
        if engine is None:
            print(f"{name}: not installed", file=sys.stderr)
            continue
        engine(photos[0][1])  # load the models before timing
        report[name] = measure(engine, photos)
        summary = {key: value for key, value in report[name].items() if key != "samples"}
        print(name, json.dumps(summary), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main(get_args_parser().parse_args())
