"""The detector's maps made into items (vision.detect): peaks, boxes, suppression, the main item."""

import numpy as np
import pytest
from PIL import Image

from vision.detect import (
    STRIDE,
    Detector,
    DetectorSettings,
    decode,
    heat_and_distances,
    peaks,
    shaped,
    suppressed,
    with_foreground,
)
from vision.segment import PhotoItem, PostProcessing, Segmenter, photos_items, post_processing_from, working_size

SIDE = 128  # the network's input side in these tests: 16 × 16 cells


def maps_of(boxes_and_scores, side=SIDE):
    """Heat map and distances as a trained network would give them for products at `boxes`."""
    cells = side // STRIDE
    heat, distances = np.zeros((cells, cells), np.float32), np.zeros((4, cells, cells), np.float32)
    centres = (np.arange(cells) + 0.5) * STRIDE
    for (left, top, right, bottom), score in boxes_and_scores:
        column, row = int((left + right) / 2 // STRIDE), int((top + bottom) / 2 // STRIDE)
        bump = np.exp(-((centres[None, :] - centres[column]) ** 2 + (centres[:, None] - centres[row]) ** 2) / 200)
        heat = np.maximum(heat, score * bump)
        distances[:, row, column] = (centres[column] - left, centres[row] - top, right - centres[column],
                                     bottom - centres[row])
    return heat, distances


class FixedDetector(Detector):
    input_size = SIDE

    def __init__(self, boxes_and_scores, settings=DetectorSettings()):
        self.maps, self.settings = maps_of(boxes_and_scores), settings

    def predict_many(self, images, sizes=None):
        return [self.maps for _ in images]


def test_each_peak_above_the_threshold_is_a_box_from_its_cells_distances():
    heat, distances = maps_of([((8, 16, 56, 112), 0.9), ((72, 24, 120, 104), 0.6), ((100, 2, 110, 12), 0.2)])
    found = decode(heat, distances, SIDE, 0.3)
    assert [round(score, 2) for score, _ in found] == [0.9, 0.6]
    assert [box for _, box in found] == [(8, 16, 56, 112), (72, 24, 120, 104)]


def test_peaks_are_local_maxima_highest_first():
    heat = np.zeros((6, 6), np.float32)
    heat[1, 1], heat[1, 2], heat[4, 4] = 0.8, 0.5, 0.9
    assert peaks(heat) == [(pytest.approx(0.9), 4, 4), (pytest.approx(0.8), 1, 1)]


def test_a_duplicate_a_part_and_clutter_are_suppressed():
    pack, twin = (10, 10, 60, 100), (12, 8, 62, 98)
    label, neighbour, speck = (20, 40, 40, 60), (64, 10, 110, 100), (115, 115, 118, 118)
    found = [(0.9, pack), (0.8, twin), (0.7, neighbour), (0.6, label), (0.5, speck)]
    assert suppressed(found) == [(0.9, pack), (0.7, neighbour)]
    relaxed = DetectorSettings(nms_iou=0.95, min_share=0.0)
    assert suppressed(found, relaxed) == [(0.9, pack), (0.8, twin), (0.7, neighbour), (0.5, speck)]


def test_no_two_items_overlap_beyond_iou_one_half():
    from vision.boxes import box_iou

    rng = np.random.default_rng(0)
    corners = rng.uniform(0, 100, (40, 2))
    found = sorted(((float(s), (x, y, x + 30, y + 40)) for s, (x, y) in zip(rng.uniform(size=40), corners)),
                   reverse=True)
    kept = [box for _, box in suppressed(found, DetectorSettings(min_share=0))]
    assert all(box_iou(a, b) <= 0.5 for i, a in enumerate(kept) for b in kept[i + 1:])


class FixedForeground(Segmenter):
    """A UNet's maps as given: the foreground a box at `box` (photo pixels) of the working size."""

    version = "fixed-unet"

    def __init__(self, box):
        self.box = box

    def predict_many(self, images, sizes=None):
        maps = []
        for image in images:
            height, width = working_size(image)
            scale = width / image.width
            foreground = np.zeros((height, width), np.float32)
            left, top, right, bottom = (round(v * scale) for v in self.box)
            foreground[top:bottom, left:right] = 0.9
            maps.append((foreground, np.zeros_like(foreground)))
        return maps


def test_boxes_beside_the_main_one_that_lie_off_the_foreground_are_behind_it():
    # A carton held up (the main item), a neighbour beside it on the foreground, a pack on the shelf behind.
    boxes = [((40, 24, 88, 120), 0.9), ((90, 40, 126, 110), 0.6), ((2, 2, 30, 40), 0.5)]
    photo = Image.new("RGB", (256, 256))
    on_foreground = with_foreground(FixedDetector(boxes), FixedForeground((70, 40, 256, 256)))
    assert on_foreground.version == "+foreground:fixed-unet"
    kept = on_foreground.segment(photo)
    assert [item.box for item in kept] == [(80, 48, 176, 240), (180, 80, 252, 220)]  # the main one is kept anyway
    assert len(FixedDetector(boxes).segment(photo)) == 3  # without a foreground map none is dropped
    keep_all = with_foreground(FixedDetector(boxes, DetectorSettings(min_foreground=0)), FixedForeground((0, 0, 1, 1)))
    kept = keep_all.segment(photo)
    assert len(kept) == 3 and all(item.outline() for item in kept)  # none on the foreground: each its box


def test_an_items_outline_follows_the_foreground_within_its_box_where_the_unet_sees_it():
    # A bottle beside the main carton, the lower half of its box on the foreground (its shape); the
    # carton the UNet missed keeps its box.
    photo, foreground = Image.new("RGB", (256, 256)), FixedForeground((176, 140, 256, 256))
    detector = with_foreground(FixedDetector([((16, 16, 80, 112), 0.9), ((88, 40, 120, 100), 0.8)]), foreground)
    carton, bottle = detector.segment(photo)
    assert carton.box == (32, 32, 160, 224) and bottle.box == (176, 80, 240, 200)  # the boxes do not change
    assert outline_bounds(carton) == pytest.approx(carton.box, abs=2)
    assert outline_bounds(bottle) == pytest.approx((176, 140, 240, 200), abs=2)
    [alone] = with_foreground(FixedDetector([((88, 40, 120, 100), 0.9)]), foreground).segment(photo)
    assert outline_bounds(alone) == pytest.approx((176, 140, 240, 200), abs=2)  # a lone item's too
    assert outline_bounds(FixedDetector([((88, 40, 120, 100), 0.9)]).segment(photo)[0]) == pytest.approx(
        (176, 80, 240, 200), abs=2)  # without a foreground map, the box


def test_an_outline_is_one_piece_of_the_foreground_without_holes():
    box = np.zeros((64, 64), bool)
    box[8:56, 8:56] = True
    foreground = np.zeros((64, 64), np.float32)
    foreground[16:48, 16:40] = 0.9  # the product
    foreground[28:32, 24:28] = 0.1  # a hole in it (a dark label)
    foreground[50:54, 50:54] = 0.9  # a neighbour's edge inside the box
    [item] = shaped([PhotoItem((8, 8, 56, 56), box, 1.0, 0.5)], foreground, min_foreground=0.1)
    product = np.zeros((64, 64), bool)
    product[16:48, 16:40] = True
    assert np.array_equal(item.mask, product) and len(item.outline()) == 1


def outline_bounds(item):
    xs, ys = zip(*(corner for polygon in item.outline() for corner in polygon))
    return min(xs), min(ys), max(xs), max(ys)


def test_items_are_in_the_photos_pixels_the_main_one_first():
    detector = FixedDetector([((8, 16, 56, 112), 0.5), ((72, 24, 120, 104), 0.9)])
    photo = Image.new("RGB", (640, 320))
    items = detector.segment(photo)
    assert [item.box for item in items] == [(360, 60, 600, 260), (40, 40, 280, 280)]  # scaled 5 × 2.5
    assert [round(item.score, 1) for item in items] == [0.9, 0.5]
    assert outline_bounds(items[0]) == pytest.approx(items[0].box, abs=2)  # its box


def test_two_products_found_are_two_items_even_beside_a_large_one():
    # A segmenter's items beside one covering most of the photo are parts of it; a detector's are products.
    detector = FixedDetector([((0, 0, 100, 128), 0.9), ((100, 40, 128, 100), 0.8)])
    [items] = photos_items([Image.new("RGB", (256, 256))], detector)
    assert len(items) == 2 and not any(item.whole_photo for item in items)


def test_a_lone_product_makes_the_photo_about_one_item():
    detector = FixedDetector([((16, 16, 112, 112), 0.9)])
    [[item]] = photos_items([Image.new("RGB", (256, 256))], detector)
    assert item.whole_photo and item.box == (32, 32, 224, 224)


def test_nothing_found_is_the_whole_photo():
    [[item]] = photos_items([Image.new("RGB", (256, 200))], FixedDetector([]))
    assert item.whole_photo and item.box == (0, 0, 256, 200)


def test_the_raw_maps_are_a_logit_and_distances_in_units_of_sixteen_pixels():
    raw = np.zeros((5, 2, 2), np.float32)
    raw[0, 0, 0], raw[1:, 1, 1] = 2.0, [-1, 0.5, 1, 2]
    heat, distances = heat_and_distances(raw)
    assert heat[0, 0] == pytest.approx(1 / (1 + np.exp(-2))) and heat[1, 1] == 0.5
    assert distances[:, 1, 1].tolist() == [0, 8, 16, 32]


def test_settings_change_by_name_and_refuse_what_they_do_not_have():
    assert post_processing_from("score_threshold=0.5,nms_iou=0.4", DetectorSettings()) == DetectorSettings(0.5, 0.4)
    with pytest.raises(ValueError, match="peak_height"):
        post_processing_from("peak_height=0.2", DetectorSettings())
    with pytest.raises(ValueError, match="between 0 and 1"):
        post_processing_from("score_threshold=2", DetectorSettings())
    assert post_processing_from("min_share=0", PostProcessing()).min_share == 0
