"""An evaluation as one HTML page of figures, plots and example photos, to look at rather than read.

    python -m vision.report --reference DIR (--queries DIR | --cv K) [--backbone NAME] --out DIR
        [--instances COCO.json] [--examples N] [any other vision.evaluate option]

The measurement is vision.evaluate's own (the same arguments, the same code path, the same
figures); the page, DIR/index.html with its images beside it in DIR/img/, shows:
- summary: the figures vision.evaluate prints;
- confusion: a confusion matrix per level of the tree, and the largest leaf confusions with
  example photos beside a reference photo of what they were taken for;
- trust: the reliability diagram and the risk-coverage curve, auto-accept's operating point on it;
- map: a t-SNE map (scikit-learn) of the reference and query embeddings, coloured by top-level
  category, the wrong answers marked;
- heatmaps: the class-activation maps of right and wrong answers;
- segmentation: the items the segmenter finds drawn on sample photos, beside the labelled boxes of
  a COCO instances file (--instances, its file names relative to the queries' folder, or the
  reference folder with --cv).
"""

import argparse
import html
import itertools
import os
import shutil
import sys
from collections import defaultdict

import numpy as np
from PIL import Image, ImageDraw
from tqdm import tqdm

from . import scoring
from .boxes import match_boxes
from .cam import refresh_head
from .catalogue import CatalogueImage, format_path, parse_path
from .categorize import CategorizedImage
from .coco import load_instances
from .experiment import add_experiment_arguments, chosen_segmenter, run
from .figures import pyplot, reliability_diagram, risk_coverage_curve, write_figures
from .images import load_image
from .items import spread
from .segment import photos_items

SECTIONS = ("summary", "confusion", "trust", "map", "heatmaps", "segmentation")
THUMBNAIL_SIDE = 160
LABELLED_COLOUR, FOUND_COLOUR = (40, 200, 80), (255, 140, 0)
# t-SNE runs on the embeddings' leading principal components: as faithful, much faster.
MAP_COMPONENTS = 50


def get_args_parser():
    parser = add_experiment_arguments(
        argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter))
    parser.add_argument("--out", required=True, help="folder to write index.html and its images to")
    parser.add_argument("--instances", help="COCO instances file: labelled boxes for the segmentation section")
    parser.add_argument("--examples", type=int, default=8, help="photos shown per example gallery")
    return parser


class Page:
    """The report being written: its image folder, and a file name for each image it shows."""

    def __init__(self, folder):
        self.images = os.path.join(folder, "img")
        shutil.rmtree(self.images, ignore_errors=True)
        os.makedirs(self.images)
        self._thumbnails = {}
        self._numbers = itertools.count(1)

    def path(self, name):
        """The file of image `name`, and how the page links it."""
        return os.path.join(self.images, name), f"img/{name}"

    def thumbnail(self, photo_path, drawn=None):
        """A small JPEG copy of a photo (or of `drawn`, the photo drawn on), and how the page links it;
        a photo shown twice is stored once."""
        if drawn is None and photo_path in self._thumbnails:
            return self._thumbnails[photo_path]
        image = (drawn or load_image(photo_path)).convert("RGB")
        image.thumbnail((THUMBNAIL_SIDE * 2, THUMBNAIL_SIDE * 2))
        file, link = self.path(f"photo-{next(self._numbers)}.jpg")
        image.save(file, "JPEG", quality=85)
        if drawn is None:
            self._thumbnails[photo_path] = link
        return link


# --- sections ----------------------------------------------------------------------------------

def summary_section(evaluation, page, args):
    figures = evaluation.figures
    accuracy, auto = figures["accuracy_by_depth"], figures["auto_accept"]
    rows = [("Protocol", figures["protocol"]), ("Backbone", figures["backbone"]),
            ("References / queries", f"{figures['n_reference']} / {figures['n_queries']}")]
    rows += [(f"Accuracy, {label}", _percent(accuracy[key])) for key, label in (("1", "depth 1"), ("2", "depth 2"),
                                                                                 ("leaf", "leaf"))]
    rows += [("Abstained (a level left unassigned)", _percent(figures["abstain_rate"])),
             ("Accuracy of what was assigned", _percent(figures["assigned_accuracy"])),
             ("Calibration error (leaf, ECE)", "no calibration (the index had too few references to calibrate on)"
              if figures["calibration_error"] is None else f"{figures['calibration_error']:.3f}"),
             ("Answers that could be taken at a precision", ", ".join(
                 f"{_percent(c)} at {float(p):.0%}" for p, c in figures["coverage_at_precision"].items())),
             (f"Accepted automatically (aiming at {_percent(auto['target_precision'])})",
              f"{_percent(auto['coverage'])} of the queries, {_percent(auto['precision'])} of them right"),
             ("Accepted at a parent", f"{_percent(auto['at_parent_coverage'])}, "
                                      f"{_percent(auto['at_parent_precision'])} right to that level")]
    if figures.get("outside"):
        outside = figures["outside"]
        rows.append(("Outside the catalogue", f"{_percent(outside['flagged_rate'])} of {outside['n_outside']} "
                                              f"flagged; AUROC {outside['auroc']:.3f}"))
    if figures["seen_queries"]:
        rows.append(("Warning", f"{figures['seen_queries']} queries were photos the embedder trained on"))
    return "<table class='figures'>" + "".join(f"<tr><th>{_text(k)}</th><td>{_text(v)}</td></tr>"
                                                for k, v in rows) + "</table>"


def confusion_section(evaluation, page, args):
    parts = []
    for key, depth in scoring.LEVELS:
        file, link = page.path(f"confusion-{key}.png")
        labels = confusion_matrix_plot(evaluation.results, depth, file)
        parts.append(f"<figure class='wide'><img src='{link}' alt='Confusion matrix, level {key}'>"
                     f"<figcaption>Level {key}: {labels} categories; each row is a true category, its shades the "
                     f"share of its photos answered as each column.</figcaption></figure>")
    parts.append("<h3>Largest confusions</h3>")
    parts.append(largest_confusions(evaluation, page, args.examples))
    return "".join(parts)


def confusion_matrix_plot(results, depth, file):
    """Draw the row-normalised confusion matrix of the answers cut to `depth`; the number of classes."""
    plt = pyplot()
    truth = [format_path(r.truth[:depth] if depth else r.truth) for r in results]
    predicted = [_shown_path(r.decision.predicted[:depth] if depth else r.decision.predicted) for r in results]
    classes = sorted(set(truth) | set(predicted))
    position = {name: i for i, name in enumerate(classes)}
    counts = np.zeros((len(classes), len(classes)))
    for t, p in zip(truth, predicted):
        counts[position[t], position[p]] += 1
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    side = min(12, 2.5 + 0.12 * len(classes))
    figure, axes = plt.subplots(figsize=(side, side))
    axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    names = [parse_path(name)[-1] for name in classes]
    size = max(4, min(10, 400 / max(len(classes), 1)))
    axes.set_xticks(range(len(classes)), names, rotation=90, fontsize=size)
    axes.set_yticks(range(len(classes)), names, fontsize=size)
    axes.set_xlabel("answered")
    axes.set_ylabel("true")
    figure.tight_layout()
    figure.savefig(file, dpi=100)
    plt.close(figure)
    return len(classes)


def largest_confusions(evaluation, page, count):
    """The most frequent (true leaf, answered leaf) pairs, each with its photos and a reference
    photo of the category they were taken for (the one nearest the first of them)."""
    pairs = defaultdict(list)
    for result in evaluation.results:
        if not scoring.answer_right(result):
            pairs[(result.truth, result.decision.predicted)].append(result)
    if not pairs:
        return "<p>No answer was wrong.</p>"
    references = evaluation.references
    rows = []
    for (truth, predicted), wrong in sorted(pairs.items(), key=lambda pair: -len(pair[1]))[:count]:
        cells = "".join(_photo(page.thumbnail(r.path), format_path(truth)) for r in wrong[:3])
        nearest = _nearest_reference(references, predicted, wrong[0])
        if nearest is not None:
            cells += _photo(page.thumbnail(nearest), f"a reference of {format_path(predicted)}", "reference")
        rows.append(f"<tr><td>{len(wrong)}</td><td>{_text(format_path(truth))}</td>"
                    f"<td>{_text(_shown_path(predicted))}</td><td class='photos'>{cells}</td></tr>")
    return ("<table class='confusions'><tr><th>Times</th><th>True</th><th>Answered</th><th>Photos, and a reference "
            "of the answer</th></tr>" + "".join(rows) + "</table>")


def _nearest_reference(references, category, result):
    rows = [i for i, image in enumerate(references.images) if image.category == category and image.path != result.path]
    if not rows or result.embedding is None:
        return None
    return references.images[rows[int(np.argmax(references.vectors[rows] @ result.embedding))]].path


def trust_section(evaluation, page, args):
    figures = evaluation.figures
    pairs = scoring.confidence_pairs(evaluation.results)
    if not pairs:
        return "<p>No answer was calibrated (the index is too small to calibrate), so there is nothing to plot.</p>"
    title = f"{figures['backbone']}: {figures['protocol']}"
    reliability, reliability_link = page.path("reliability.png")
    reliability_diagram(pairs, scoring.CALIBRATION_BINS, title, reliability)
    curve, curve_link = page.path("risk-coverage.png")
    auto = figures["auto_accept"]
    coverage, right = scoring.answers_taken(*zip(*pairs))
    risk_coverage_curve(coverage, 1 - right, title, curve, target_precision=auto["target_precision"],
                        operating_point=(auto["coverage"], 1 - auto["precision"]) if auto["precision"] is not None
                        else None)
    return (f"<figure><img src='{reliability_link}' alt='Reliability diagram'><figcaption>Reliability: how often "
            f"answers were right against how confident they were (ECE {figures['calibration_error']:.3f})."
            f"</figcaption></figure><figure><img src='{curve_link}' alt='Risk-coverage curve'><figcaption>"
            "Risk and coverage: taking answers most confident first, the share of them wrong against the share "
            "taken; the dot is what auto-accept takes.</figcaption></figure>")


def map_section(evaluation, page, args):
    references, results = evaluation.references, evaluation.results
    if len(references.images) + len(results) < 5:
        return "<p>Too few photos for a map.</p>"
    file, link = page.path("map.png")
    queries_are_references = not args.queries
    embedding_map(references, results, queries_are_references, file)
    shown = "reference photo" if queries_are_references else "reference photo (dots) and query (circles)"
    return (f"<figure class='wide'><img src='{link}' alt='t-SNE map of the embeddings'><figcaption>Every {shown} "
            "where t-SNE places its embedding, coloured by top-level category; a black × is a query answered wrongly."
            "</figcaption></figure>")


def embedding_map(references, results, queries_are_references, file):
    """Plot the t-SNE map of the references' embeddings (and the queries', when they are not
    references themselves), the wrong answers marked."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    plt = pyplot()
    if queries_are_references:
        row_of = {image.path: i for i, image in enumerate(references.images)}
        vectors, query_rows = references.vectors, [row_of[r.path] for r in results]
    else:
        vectors = np.concatenate([references.vectors, np.stack([r.embedding for r in results])])
        query_rows = list(range(len(references.images), len(vectors)))
    tops = [image.category[0] for image in references.images] + (
        [] if queries_are_references else [r.truth[0] if r.truth else "" for r in results])
    if vectors.shape[1] > MAP_COMPONENTS and len(vectors) > MAP_COMPONENTS:
        vectors = PCA(MAP_COMPONENTS, random_state=0).fit_transform(vectors)
    points = TSNE(2, init="pca", perplexity=min(30.0, (len(vectors) - 1) / 3), random_state=0).fit_transform(vectors)
    figure, axes = plt.subplots(figsize=(9, 8))
    colours = plt.get_cmap("tab10")
    for n, top in enumerate(sorted(set(tops))):
        rows = [i for i, t in enumerate(tops) if t == top]
        axes.scatter(points[rows, 0], points[rows, 1], s=6, color=colours(n % 10), label=top or "(none)")
    if not queries_are_references:
        axes.scatter(points[query_rows, 0], points[query_rows, 1], s=22, facecolors="none", edgecolors="grey",
                     linewidths=0.6, label="queries")
    wrong = [row for row, r in zip(query_rows, results) if not scoring.answer_right(r)]
    axes.scatter(points[wrong, 0], points[wrong, 1], s=24, marker="x", color="black", linewidths=0.9,
                 label="wrong answers")
    axes.set_xticks([])
    axes.set_yticks([])
    axes.legend(fontsize=8, markerscale=2)
    figure.tight_layout()
    figure.savefig(file, dpi=100)
    plt.close(figure)


def heatmaps_section(evaluation, page, args):
    categorizer = evaluation.categorizer
    refresh_head(categorizer.index)
    right = [r for r in evaluation.results if scoring.answer_right(r)]
    # The most confident wrong answers are the ones auto-accept is at risk of taking.
    wrong = sorted((r for r in evaluation.results if not scoring.answer_right(r)),
                   key=lambda r: -scoring.answer_confidence(r))
    parts = ["<p>The map is of the category answered (its best leaf), from the head the index trains on its "
             "references" + (", which here include the query itself" if args.cv else "") + ".</p>"]
    galleries = {"Right answers": spread(right, args.examples),
                 "Wrong answers, the most confident first": wrong[:args.examples]}
    for title, chosen in galleries.items():
        cells = "".join(_heatmap_photo(categorizer, page, result) for result in chosen)
        parts.append(f"<h3>{title}</h3><div class='photos'>{cells or '<p>None.</p>'}</div>")
    return "".join(parts)


def _heatmap_photo(categorizer, page, result):
    image = load_image(result.path)
    batch = categorizer.embedder.forward([image])
    categorized = CategorizedImage(result.assignment, result.decision, batch.embeddings[0], batch.feature_maps[0])
    explanation, overlay = categorizer.heatmap(categorized, (0, 0, *image.size))
    shown = Image.alpha_composite(image.resize(overlay.size).convert("RGBA"), overlay)
    answered = _shown_path(result.decision.predicted)
    caption = f"true {format_path(result.truth)}; answered {answered} ({scoring.answer_confidence(result):.0%})"
    if format_path(explanation.category) != answered:
        caption += f"; map of {format_path(explanation.category)}"
    return _photo(page.thumbnail(result.path, shown), caption)


def segmentation_section(evaluation, page, args):
    segmenter = chosen_segmenter(args.segmenter, args.runtime, args.device)
    queried = {r.path for r in evaluation.results}
    if args.instances:
        labelled = load_instances(args.instances, args.queries or args.reference[0])
        photos = spread([p for p in labelled if p.path in queried] or labelled, args.examples * 2)
        note = (f"Labelled boxes in green, the items {segmenter.version} finds in orange (as the worker "
                "categorizes them).")
    else:
        photos = spread([CatalogueImage(r.path, r.truth) for r in evaluation.results], args.examples * 2)
        note = (f"The items {segmenter.version} finds, in orange; no labelled boxes were given (--instances), so "
                "nothing to compare them with.")
    cells, found_total, labelled_total = [], 0, 0
    for photo in photos:
        image = load_image(photo.path)
        found = [item.box for item in photos_items([image], segmenter)[0]]
        truth = [product.box for product in getattr(photo, "products", ())]
        drawn = image.convert("RGB")
        draw = ImageDraw.Draw(drawn)
        width = max(3, round(max(image.size) / 100))
        for box in truth:
            draw.rectangle(box, outline=LABELLED_COLOUR, width=width)
        for box in found:
            draw.rectangle(box, outline=FOUND_COLOUR, width=width)
        matched = len(match_boxes(found, truth))
        found_total, labelled_total = found_total + matched, labelled_total + len(truth)
        caption = (f"{matched} of {len(truth)} labelled found; {len(found)} item{'s' * (len(found) != 1)}"
                   if args.instances else f"{len(found)} item{'s' * (len(found) != 1)}")
        cells.append(_photo(page.thumbnail(photo.path, drawn), caption))
    summary = (f" Over these photos, {found_total} of {labelled_total} labelled products were found (IoU ≥ 0.5)."
               if args.instances else "")
    return f"<p>{_text(note + summary)}</p><div class='photos'>{''.join(cells)}</div>"


BUILDERS = {"summary": summary_section, "confusion": confusion_section, "trust": trust_section,
            "map": map_section, "heatmaps": heatmaps_section, "segmentation": segmentation_section}
TITLES = {"summary": "Summary", "confusion": "Confusions", "trust": "Can the confidence be trusted?",
          "map": "The embedding, mapped", "heatmaps": "What the model looked at", "segmentation": "Items found"}


# --- the page ----------------------------------------------------------------------------------

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; color: #1d2433; max-width: 1200px; margin: 0 auto; padding: 16px 24px; }
nav a { margin-right: 12px; }
h2 { border-top: 1px solid #e4e7ec; padding-top: 18px; margin-top: 28px; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #e4e7ec; vertical-align: top; }
figure { display: inline-block; margin: 0 12px 12px 0; vertical-align: top; max-width: 560px; }
figure.wide { max-width: 100%; }
figure img { max-width: 100%; }
figcaption { font-size: 12px; color: #667085; }
.photos figure { width: 170px; }
.photos figure img { width: 160px; height: 160px; object-fit: contain; background: #f2f4f7; }
.photos figure.reference img { outline: 3px solid #1f6feb; }
td.photos { white-space: nowrap; }
td.photos figcaption { white-space: normal; }
"""


def write_page(folder, title, sections):
    """index.html of the report: a title, a contents line, and each (name, html) section."""
    contents = " ".join(f"<a href='#{name}'>{TITLES[name]}</a>" for name, _ in sections)
    body = "".join(f"<section id='{name}'><h2>{TITLES[name]}</h2>{content}</section>" for name, content in sections)
    path = os.path.join(folder, "index.html")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{_text(title)}</title>"
                     f"<style>{STYLE}</style></head><body><h1>{_text(title)}</h1><nav>{contents}</nav>{body}"
                     "</body></html>")
    return path


def main(args):
    if args.instances and not args.queries and len(args.reference) > 1:
        raise SystemExit("--instances names photos relative to one folder: with several --reference trees, give "
                         "the photos it boxes as --queries.")
    os.makedirs(args.out, exist_ok=True)
    evaluation = run(args)
    page = Page(args.out)
    sections = []
    for name in tqdm(SECTIONS, desc="report", unit="section", file=sys.stderr):
        sections.append((name, BUILDERS[name](evaluation, page, args)))
    write_figures(evaluation.figures, os.path.join(args.out, "figures.json"))
    path = write_page(args.out, f"Categorization report: {evaluation.figures['protocol']}", sections)
    print(f"The report is in {path}")
    return path


def _photo(link, caption, kind=""):
    return f"<figure class='{kind}'><img src='{link}' alt='{_text(caption)}'><figcaption>{_text(caption)}" \
           "</figcaption></figure>"


def _shown_path(path):
    """A category path as the page shows it; an answer of no category says so."""
    return format_path(path) or "(nothing)"


def _percent(value):
    return "–" if value is None else f"{value:.1%}"


def _text(value):
    return html.escape(str(value), quote=True)


if __name__ == "__main__":
    main(get_args_parser().parse_args())
