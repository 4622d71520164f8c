"""Writing a measurement's figures, the same way for every evaluation and benchmark."""

import json


def write_figures(figures, path):
    """Write the figures as indented JSON to `path` (nothing when no path was given)."""
    if path:
        with open(path, "w") as handle:
            json.dump(figures, handle, indent=2)
