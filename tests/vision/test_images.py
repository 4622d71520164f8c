import io

import numpy as np
import pytest
from PIL import Image

from vision.images import InvalidImage, load_image


def encoded(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def photo(mode="RGB", size=(40, 30), colour=(200, 30, 30)):
    return Image.new(mode, size, colour)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_it_loads_each_supported_format(fmt):
    image = load_image(encoded(photo(), fmt))
    assert image.mode == "RGB" and image.size == (40, 30)
    assert np.allclose(np.asarray(image)[15, 20], (200, 30, 30), atol=12)


def test_it_loads_from_a_path_and_from_a_file(tmp_path):
    path = tmp_path / "a photo.png"
    photo().save(path)
    assert load_image(path).size == load_image(open(path, "rb")).size == (40, 30)


def test_it_applies_exif_orientation():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90°: the camera held sideways
    assert load_image(encoded(photo(size=(40, 20)), "JPEG", exif=exif)).size == (20, 40)


def test_it_flattens_transparency_onto_white():
    image = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    image.putpixel((0, 0), (255, 0, 0, 255))
    pixels = np.asarray(load_image(encoded(image, "PNG")))
    assert tuple(pixels[0, 0]) == (255, 0, 0) and tuple(pixels[3, 3]) == (255, 255, 255)


def test_it_converts_a_palette_image_with_transparency():
    image = Image.new("P", (4, 4), 1)
    image.putpalette([0, 0, 0, 0, 128, 0] + [0] * 762)
    pixels = np.asarray(load_image(encoded(image, "PNG", transparency=0)))
    assert tuple(pixels[0, 0]) == (0, 128, 0)


def test_it_converts_cmyk():
    pixels = np.asarray(load_image(encoded(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "JPEG")))
    assert pixels[4, 4, 0] > 200 and pixels[4, 4, 1] < 60


def test_it_scales_sixteen_bit_greyscale_to_eight_bits():
    image = Image.fromarray(np.full((6, 6), 32768, np.uint16))
    assert image.mode.startswith("I;16")
    pixels = np.asarray(load_image(encoded(image, "PNG")))
    assert pixels.shape == (6, 6, 3) and abs(int(pixels[0, 0, 0]) - 127) <= 1


def test_it_converts_greyscale():
    assert load_image(encoded(Image.new("L", (5, 5), 77), "PNG")).getpixel((2, 2)) == (77, 77, 77)


def test_it_rejects_an_empty_file():
    with pytest.raises(InvalidImage, match="empty"):
        load_image(b"")


def test_it_rejects_a_text_file():
    with pytest.raises(InvalidImage, match="not an image"):
        load_image(b"name,price\nshirt,10\n")


def test_it_rejects_a_truncated_jpeg():
    data = encoded(Image.effect_noise((200, 200), 60).convert("RGB"), "JPEG")
    with pytest.raises(InvalidImage, match="corrupt or truncated"):
        load_image(data[: len(data) // 2])


def test_it_rejects_a_corrupt_png():
    data = bytearray(encoded(Image.effect_noise((64, 64), 60), "PNG"))
    data[60:80] = b"\x00" * 20  # inside the compressed pixel data
    with pytest.raises(InvalidImage, match="corrupt or truncated"):
        load_image(bytes(data))


def test_it_rejects_a_decompression_bomb():
    bomb = encoded(Image.new("1", (30_000, 30_000)), "PNG")
    assert len(bomb) < 1_000_000
    with pytest.raises(InvalidImage, match="too many pixels|too large"):
        load_image(bomb)


def test_it_rejects_an_image_over_the_pixel_limit():
    with pytest.raises(InvalidImage, match=r"too large \(40×30 pixels\)"):
        load_image(encoded(photo(), "PNG"), max_pixels=1000)


def test_it_rejects_an_unsupported_format():
    with pytest.raises(InvalidImage, match="GIF images are not supported"):
        load_image(encoded(photo().convert("P"), "GIF"))
