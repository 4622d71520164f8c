"""torch 2.13.0 resolves to a local CPU wheel that no registry torchvision imports against.

This proves the pinned pair loads torchvision's compiled operators.
"""

import torch
import torchvision


def test_torchvision_compiled_operators_run_on_this_torch():
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 11.0, 11.0], [50.0, 50.0, 60.0, 60.0]])
    kept = torchvision.ops.nms(boxes, torch.tensor([0.9, 0.8, 0.7]), iou_threshold=0.5)
    assert kept.tolist() == [0, 2]
