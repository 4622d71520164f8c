"""What several benches share, in one module: the benches are commands, and no command imports
another (a bench imports these from here instead).

Catalogue trees: link_tree writes a part of a catalogue as a folder tree of symbolic links
(bench.split_leaves, bench.holdout_tree).
"""

import os


def link_tree(images, root, leaves):
    for image in images:
        if image.category in leaves:
            folder = os.path.join(root, *image.category)
            os.makedirs(folder, exist_ok=True)
            os.symlink(os.path.abspath(image.path), os.path.join(folder, os.path.basename(image.path)))
