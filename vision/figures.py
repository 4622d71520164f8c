"""Writing a measurement's figures, the same way for every evaluation and benchmark."""

import json


def write_figures(figures, path):
    """Write the figures as indented JSON to `path` (nothing when no path was given)."""
    if path:
        with open(path, "w") as handle:
            json.dump(figures, handle, indent=2)


def pyplot():
    """matplotlib.pyplot drawing to files (no display here)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def reliability_diagram(pairs, bins, title, path):
    """A reliability diagram of [(confidence, correct)] as a PNG: per equal-width bin, how often the
    answers were right against how confident they were, with the share of answers in each bin."""
    import textwrap

    import numpy as np

    plt = pyplot()

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


def risk_coverage_curve(coverage, risk, title, path, target_precision=None, operating_point=None):
    """The risk-coverage curve as a PNG: taking the answers most confident first, the share of those
    taken that are wrong (`risk`) against the share taken (`coverage`); with the risk a target
    precision allows, and an (coverage, risk) operating point marked."""
    import textwrap

    plt = pyplot()
    figure, axes = plt.subplots(figsize=(5, 4.2))
    axes.plot(coverage, risk, color="tab:blue", label="answers taken")
    if target_precision is not None:
        axes.axhline(1 - target_precision, linestyle="--", color="grey",
                     label=f"risk allowed at {target_precision:.0%} precision")
    if operating_point is not None:
        axes.plot(*operating_point, "o", color="tab:red", label="accepted automatically")
    axes.set_xlim(0, 1)
    # The first few answers' risk is noise; the scale is set by the rest.
    axes.set_ylim(0, max(0.05, float(risk[len(risk) // 20:].max(initial=0)) * 1.1))
    axes.set_xlabel("coverage (share of answers taken)")
    axes.set_ylabel("risk (share of those wrong)")
    axes.set_title("\n".join(textwrap.wrap(title, 70)), fontsize=8)
    axes.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
