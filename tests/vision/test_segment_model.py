import torch

from vision.unet import UNet, unet


def test_the_unet_gives_foreground_and_distance_at_the_input_size():
    model = unet(pretrained=False).eval()
    with torch.no_grad():
        assert model(torch.zeros(2, 3, 96, 128)).shape == (2, 2, 96, 128)


def test_its_encoder_taps_every_stride_of_the_backbone():
    model = unet(pretrained=False)
    assert isinstance(model, UNet)
    with torch.no_grad():
        sides = [f.shape[-1] for f in model.encoder(torch.zeros(1, 3, 128, 128))]
    assert sides == [64, 32, 16, 8, 4]
