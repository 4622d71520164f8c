"""A worker whose settings name a model this host lacks stops as it starts, saying which: it ran on
and failed every photo, for good, "not set up"."""

from worker.models_cache import setup_problems


def test_a_misspelled_segmenter_stops_the_worker_saying_so(start_worker):
    process, log = start_worker(env={"CATALOG_SEGMENTER": "detector_lite"})
    assert process.wait(timeout=120) != 0
    log.seek(0)
    assert "This worker cannot categorize photos: CATALOG_SEGMENTER=detector_lite" in log.read()


def test_the_shipped_settings_have_no_problem(settings):
    assert setup_problems() == []
    # It names a first index's embedder only: a worker serves the one its index names.
    settings.CATALOG_BACKBONE = "no_such_backbone"
    assert setup_problems() == []
    settings.CATALOG_SEGMENTER = ""  # each photo one item
    assert setup_problems() == []


def test_the_cuda_provider_needs_onnxruntime_gpu(settings):
    import onnxruntime

    settings.CATALOG_RUNTIME, settings.CATALOG_ONNX_PROVIDER = "onnx", "cuda"
    problems = setup_problems()
    has_cuda = "CUDAExecutionProvider" in onnxruntime.get_available_providers()
    assert (problems == []) if has_cuda else problems[0].startswith("CATALOG_ONNX_PROVIDER=cuda")
