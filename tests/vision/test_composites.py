import numpy as np
from PIL import Image
from scipy import ndimage

from tests.photos import iconic_folder, iconic_packshot
from vision.composites import SEVERAL_PIECES, CompositeGenerator, cut_out, single_piece_cut_outs, split_pairs


class BlueBackdrop:
    def draw(self, rng, size):
        return Image.new("RGB", (size, size), (20, 40, 200))


def red_square_cut_out(side=40):
    packshot = Image.new("RGB", (side + 20, side + 20), "white")
    packshot.paste((220, 20, 20), (10, 10, side + 10, side + 10))
    return cut_out(packshot)


def test_a_cut_out_keeps_the_product_and_drops_the_white_backdrop():
    product = red_square_cut_out()
    alpha = np.asarray(product.getchannel("A")) > 127
    assert 34 <= product.width <= 40 and 34 <= product.height <= 40  # less a thin rim, never more
    assert alpha[2:-2, 2:-2].all() and alpha.mean() > 0.8


def test_a_cut_out_of_a_real_packshot_keeps_the_white_parts_of_the_pack():
    product = cut_out(iconic_packshot("Packages/Milk/Arla-Standard-Milk"))
    alpha = np.asarray(product.getchannel("A")) > 127
    assert ndimage.binary_fill_holes(alpha).sum() == alpha.sum()
    assert alpha.mean() > 0.8  # a carton is nearly its bounding box


def test_masks_match_the_pasted_pixels():
    generator = CompositeGenerator([red_square_cut_out()], BlueBackdrop(), size=160, seed=3)
    for index in range(10):
        composite = generator(index)
        red = np.asarray(composite.image)[..., 0] > 110
        union = np.logical_or.reduce(composite.masks)
        # Only the one-pixel soft edge of each paste may disagree.
        disagreement = red ^ union
        edge = ndimage.binary_dilation(union) & ~ndimage.binary_erosion(union)
        assert not (disagreement & ~edge).any()
        assert all(mask.any() for mask in composite.masks)


def test_items_do_not_share_pixels_and_later_items_lie_on_top():
    generator = CompositeGenerator([red_square_cut_out()], BlueBackdrop(), size=160, seed=5)
    composite = next(c for c in map(generator, range(50)) if c.touching)
    total = sum(mask.sum() for mask in composite.masks)
    assert total == np.logical_or.reduce(composite.masks).sum()


def test_the_same_seed_and_index_give_the_same_composite():
    cut_outs = [red_square_cut_out(30), red_square_cut_out(50)]
    first, again = (CompositeGenerator(cut_outs, BlueBackdrop(), seed=7)(4) for _ in range(2))
    assert np.array_equal(np.asarray(first.image), np.asarray(again.image))
    assert first.boxes == again.boxes and first.touching == again.touching


def test_touching_pairs_are_those_whose_masks_meet():
    generator = CompositeGenerator([red_square_cut_out()], BlueBackdrop(), size=160, seed=11)
    composites = [generator(i) for i in range(40)]
    assert any(c.touching for c in composites) and any(len(c.masks) > 1 and not c.touching for c in composites)
    for composite in composites:
        for i, j in composite.touching:
            assert (ndimage.binary_dilation(composite.masks[i], iterations=2) & composite.masks[j]).any()


def test_every_fifth_pair_is_held_out_for_validation():
    split = split_pairs([(f"{i}.jpg", f"{i}.png") for i in range(10)])
    assert split["val"] == [("4.jpg", "4.png"), ("9.jpg", "9.png")] and len(split["train"]) == 8


def test_packshots_of_several_loose_pieces_are_left_out_of_composites():
    assert "Lime" in SEVERAL_PIECES and len(single_piece_cut_outs(iconic_folder())) == 81 - len(SEVERAL_PIECES)
