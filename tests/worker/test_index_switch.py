import io
import threading

import pytest
from django.core.management import call_command

from vision.images import load_image
from worker.models_cache import models

pytestmark = pytest.mark.django_db


def test_rebuilding_with_a_new_embedder_switches_without_a_moment_with_no_index(imported_catalogue, tiny_embedder,
                                                                                  settings):
    image = load_image(next((imported_catalogue[1] / "Fruit" / "Banana").iterdir()))
    assert models.categorizer().embedder.weights.name == "efficientnet_lite0"
    seen, failures, stop = [], [], threading.Event()

    def keep_categorizing():
        while not stop.is_set():
            try:
                categorizer = models.categorizer()
                categorizer.categorize([image])
                seen.append(categorizer.embedder.weights.name)
            except Exception as error:  # any failure at all is what this test looks for
                failures.append(error)

    worker = threading.Thread(target=keep_categorizing)
    worker.start()
    try:
        call_command("rebuild_index", "--backbone", tiny_embedder, stdout=io.StringIO(), stderr=io.StringIO())
        while not seen or seen[-1] != tiny_embedder:
            assert worker.is_alive()
            threading.Event().wait(0.05)
    finally:
        stop.set()
        worker.join()
    assert failures == []
    assert seen[0] == "efficientnet_lite0" and seen[-1] == tiny_embedder
    assert models.categorizer().categorize([image])[0].assignment.path[0] == "Fruit"
