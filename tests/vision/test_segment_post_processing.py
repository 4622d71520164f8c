import numpy as np
import pytest
from scipy import ndimage

from vision.segment import (PhotoItem, PostProcessing, _reconstructed, find_items, normalised_distance,
                            post_processing_from)


def disc(shape, centre, radius):
    rows, columns = np.ogrid[:shape[0], :shape[1]]
    return (rows - centre[0]) ** 2 + (columns - centre[1]) ** 2 <= radius ** 2


def items_of(mask):
    """find_items on a hand-made mask, with the distance map the network is trained to give."""
    labels, _ = ndimage.label(mask)
    return find_items(mask.astype(np.float32), normalised_distance(labels))


def test_it_splits_two_touching_discs():
    mask = disc((100, 160), (50, 50), 30) | disc((100, 160), (50, 108), 30)
    assert ndimage.label(mask)[1] == 1  # one blob, two items
    items = sorted(items_of(mask), key=lambda item: item.box)
    assert len(items) == 2
    assert abs(items[0].box[0] - 20) <= 1 and abs(items[1].box[2] - 139) <= 1
    assert not (items[0].mask & items[1].mask).any()


def test_it_splits_touching_items_of_different_sizes_at_their_own_distance_peaks():
    big, small = disc((120, 160), (60, 50), 40), disc((120, 160), (60, 102), 14)
    labels = np.where(small, 2, big.astype(int))
    both = PostProcessing(min_share=0.0)  # the small one is under the share of the largest kept by default
    assert len(find_items((big | small).astype(np.float32), normalised_distance(labels), both)) == 2


def test_it_keeps_apart_items_apart():
    mask = disc((100, 200), (50, 40), 25) | disc((100, 200), (50, 150), 25)
    assert len(items_of(mask)) == 2


@pytest.mark.parametrize("seed", range(3))
def test_the_peaks_are_shaved_as_skimage_reconstructs_them(seed):
    """The reconstruction by OpenCV dilations that replaced skimage's (ten times as fast) gives the
    same map, on rough maps with many peaks, plateaus and holes."""
    from skimage.morphology import reconstruction

    rng = np.random.default_rng(seed)
    levels = ndimage.uniform_filter(rng.integers(0, 256, (90, 130)).astype(float), 5)
    levels = np.round(255 * (levels - levels.min()) / np.ptp(levels)).astype(np.uint8)
    levels[rng.random(levels.shape) < 0.05] = 0
    seed_map = np.maximum(levels, 38) - 38
    assert np.array_equal(_reconstructed(seed_map, levels), reconstruction(seed_map, levels).astype(np.uint8))


def test_it_does_not_split_an_elongated_item():
    mask = np.zeros((100, 240), bool)
    mask[40:60, 10:230] = True
    assert len(items_of(mask)) == 1


def test_it_fills_the_holes_of_an_item():
    ring = disc((100, 100), (50, 50), 40) & ~disc((100, 100), (50, 50), 15)
    [item] = items_of(ring)
    assert item.mask[50, 50] and item.area == disc((100, 100), (50, 50), 40).sum()


def test_it_drops_specks():
    mask = disc((200, 200), (100, 100), 50)
    mask[5:8, 5:8] = True  # 9 pixels: 0.02 % of the photo
    [item] = items_of(mask)
    assert item.box == (50, 50, 151, 151)


def test_a_blob_without_a_distance_peak_is_still_one_item():
    mask = disc((100, 100), (50, 50), 30)
    [item] = find_items(mask.astype(np.float32), np.zeros(mask.shape, np.float32))
    assert item.area == mask.sum()


def test_nothing_found_on_an_empty_map():
    assert find_items(np.zeros((50, 50), np.float32), np.zeros((50, 50), np.float32)) == []


def test_the_outline_traces_the_mask_in_photo_pixels():
    mask = np.zeros((50, 50), bool)
    mask[10:20, 5:25] = True
    [polygon] = PhotoItem((10, 20, 50, 40), mask, 2.0, 0.1).outline()
    xs, ys = [x for x, _ in polygon], [y for _, y in polygon]
    assert min(xs) >= 9 and max(xs) <= 50 and min(ys) >= 19 and max(ys) <= 40
    assert max(xs) - min(xs) >= 38 and max(ys) - min(ys) >= 18


def test_a_part_inside_a_larger_item_is_merged_into_it():
    carton = np.zeros((200, 200), bool)
    carton[20:180, 40:120] = True
    label = disc((200, 200), (100, 120), 12)  # a label half outside the carton's side
    labels = np.where(label, 2, carton.astype(int))
    maps = ((carton | label).astype(np.float32), normalised_distance(labels))
    assert len(find_items(*maps, PostProcessing(merge_inside=None, min_share=0.0))) == 2  # two peaks of distance
    [merged] = find_items(*maps, PostProcessing(merge_inside=0.4, min_share=0.0))
    assert merged.box == (40, 20, 133, 180) and merged.area == (carton | label).sum()
    assert len(find_items(*maps, PostProcessing(merge_inside=0.9, min_share=0.0))) == 2  # about half is inside


def test_items_much_smaller_than_the_largest_are_dropped():
    mask = disc((200, 300), (100, 80), 60) | disc((200, 300), (100, 250), 12)  # a product and a price label
    labels, _ = ndimage.label(mask)
    maps = (mask.astype(np.float32), normalised_distance(labels))
    assert len(find_items(*maps, PostProcessing(min_share=0.0))) == 2
    [product] = find_items(*maps)
    assert product.box == (20, 40, 141, 161)


def test_a_post_processing_is_written_on_the_command_line_as_name_value_pairs():
    settings = post_processing_from("merge_inside=none, min_share=0,peak_height=0.2")
    assert settings == PostProcessing(merge_inside=None, min_share=0.0, peak_height=0.2)
    with pytest.raises(ValueError, match="'peaks=1' is not name=value with a name of"):
        post_processing_from("peaks=1")
    with pytest.raises(ValueError, match="peak_height is a share of the distance map's range, from 0 to 1, not 1.2"):
        post_processing_from("peak_height=1.2")
