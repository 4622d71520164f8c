import json

from vision.evaluate import get_args_parser, main


def test_it_measures_a_small_catalogue_and_writes_the_json(small_catalogue, tmp_path, capsys):
    reference, queries = small_catalogue
    (reference / "Fruit" / "Banana" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    args = get_args_parser().parse_args([
        "--reference", str(reference), "--queries", str(queries), "--json", str(tmp_path / "out.json"),
    ])
    main(args)
    figures = json.loads((tmp_path / "out.json").read_text())
    assert figures["n_reference"] == 24 and figures["n_queries"] == 9
    assert figures["backbone"] == "efficientnet_lite0-imagenet-1"
    assert set(figures["accuracy_by_depth"]) == {"1", "2", "leaf"}
    assert figures["accuracy_by_depth"]["leaf"] >= 7 / 9
    assert figures["accuracy_by_depth"]["1"] >= figures["accuracy_by_depth"]["2"] >= figures["accuracy_by_depth"]["leaf"]
    assert 0 <= figures["abstain_rate"] <= 1 and 0 <= figures["assigned_accuracy"] <= 1
    assert figures["images_per_second"] > 0
    assert [s["path"].rsplit("/", 1)[-1] for s in figures["skipped"]] == ["broken.jpg"]
    printed = capsys.readouterr()
    assert "accuracy leaf" in printed.out and "worst classes" in printed.out
    assert "broken.jpg" in printed.err
