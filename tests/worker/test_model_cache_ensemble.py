import json
import os

from worker.models_cache import ModelCache


def test_an_ensemble_is_loaded_anew_when_its_file_or_a_member_changes(tiny_embedder, tmp_path):
    spec = tmp_path / "weights" / "pair.json"
    spec.write_text(json.dumps({"members": ["tiny", "efficientnet_lite0"]}))
    cache = ModelCache()
    first = cache.embedder("pair")
    assert cache.embedder("pair") is first
    spec.write_text(json.dumps({"members": ["tiny", "efficientnet_lite0"], "weights": [1, 2]}))
    second = cache.embedder("pair")
    assert second.weights.version != first.weights.version
    member = tmp_path / "weights" / "tiny.pt"
    os.replace(member, tmp_path / "weights" / "moved.pt")
    os.replace(tmp_path / "weights" / "moved.pt", member)
    os.utime(member, ns=(0, 0))
    assert cache.embedder("pair") is not second
