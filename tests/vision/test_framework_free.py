import subprocess
import sys

SCRIPT = """
import sys
import vision.backbones, vision.catalogue, vision.categorize, vision.embedder, vision.experiment
import vision.images, vision.index, vision.items, vision.scoring, vision.text, vision.training.embedder, vision.vote
leaked = sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'celery', 'catalog', 'worker'))
assert not leaked, leaked
"""


def test_vision_imports_nothing_from_the_web_app_or_the_worker():
    subprocess.run([sys.executable, "-c", SCRIPT], check=True)
