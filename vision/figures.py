"""Writing a measurement's figures, the same way for every evaluation and benchmark."""

import json


def write_figures(figures, path):
    """Write the figures as indented JSON to `path` (nothing when no path was given)."""
    if path:
        with open(path, "w") as handle:
            json.dump(figures, handle, indent=2)


def reliability_diagram(pairs, bins, title, path):
    """A reliability diagram of [(confidence, correct)] as a PNG: per equal-width bin, how often the
    answers were right against how confident they were, with the share of answers in each bin."""
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    confidence = np.array([c for c, _ in pairs], float)
    correct = np.array([r for _, r in pairs], float)
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    centres = (np.arange(bins) + 0.5) / bins
    accuracy = [correct[which == b].mean() if (which == b).any() else np.nan for b in range(bins)]
    share = [(which == b).mean() if len(which) else 0 for b in range(bins)]
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(5, 6), sharex=True, height_ratios=(3, 1))
    top.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    top.bar(centres, accuracy, width=1 / bins, edgecolor="black", alpha=0.7, label="share right")
    top.set_ylabel("share of answers right")
    top.set_title("\n".join(textwrap.wrap(title, 70)), fontsize=8)
    top.legend(loc="upper left", fontsize=8)
    bottom.bar(centres, share, width=1 / bins, edgecolor="black", color="tab:orange")
    bottom.set_xlabel("leaf confidence")
    bottom.set_ylabel("share of answers")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
