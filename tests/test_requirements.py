"""The requirements split by host: a serving host installs no PyTorch, and every package is
pinned exactly."""

from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parent.parent / "requirements"


def packages(name):
    lines = (line.split("#")[0].strip() for line in (REQUIREMENTS / name).read_text().splitlines())
    return [line for line in lines if line]


def test_serving_installs_no_pytorch():
    names = {line.split("==")[0].lower() for line in packages("serving.txt")}
    assert not names & {"torch", "torchvision", "onnx", "efficientnet-lite-pytorch"}
    assert "onnxruntime" in names


def test_every_package_is_pinned_and_the_whole_set_is_all_three():
    for name in ("serving.txt", "training.txt", "tests.txt"):
        assert all("==" in line for line in packages(name)), name
    assert packages("../requirements.txt") == [f"-r requirements/{name}" for name in
                                                ("serving.txt", "training.txt", "tests.txt")]
