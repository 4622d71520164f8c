"""Reading boxed products from a COCO instances file (vision.coco)."""

import json

import pytest

from vision.coco import InstancesError, Product, load_instances

CATEGORIES = [{"id": 1, "name": "Beans", "supercategory": "Pantry"}, {"id": 2, "name": "Water"}]


def write(tmp_path, images, annotations, categories=CATEGORIES):
    path = tmp_path / "instances.json"
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": categories}))
    return str(path)


def test_boxes_become_corners_with_the_category_path_and_paths_join_the_photos_folder(tmp_path):
    images = [{"id": 7, "file_name": "Pantry/Beans/b1.jpg", "width": 224, "height": 224},
              {"id": 8, "file_name": "w1.jpg"}]
    annotations = [  # no "segmentation": masks are optional
        {"id": 1, "image_id": 7, "category_id": 1, "bbox": [10, 20, 30.5, 40]},
        {"id": 2, "image_id": 7, "category_id": 1, "bbox": [50, 20, 30, 40]},
        {"id": 3, "image_id": 8, "category_id": 2, "bbox": [0, 0, 5, 5]},
    ]
    beans, water = load_instances(write(tmp_path, images, annotations), "/data/photos")
    assert beans.path == "/data/photos/Pantry/Beans/b1.jpg" and water.path == "/data/photos/w1.jpg"
    assert beans.products == (Product((10, 20, 40.5, 60), ("Pantry", "Beans")),
                              Product((50, 20, 80, 60), ("Pantry", "Beans")))
    assert beans.category == ("Pantry", "Beans") and water.category == ("Water",)


def test_a_photo_with_no_boxes_is_kept_and_a_box_with_no_area_is_left_out(tmp_path):
    images = [{"id": 1, "file_name": "a.jpg"}, {"id": 2, "file_name": "b.jpg"}]
    annotations = [{"id": 1, "image_id": 2, "category_id": 2, "bbox": [87, 187, 0, 1]}]
    first, second = load_instances(write(tmp_path, images, annotations), str(tmp_path))
    assert first.products == () and second.products == () and first.category == ()


@pytest.mark.parametrize("images, annotations, message", [
    ([{"id": 1, "file_name": "a.jpg"}], [{"id": 1, "image_id": 9, "category_id": 1, "bbox": [0, 0, 1, 1]}],
     "annotations[0]: image_id 9 is not among the images"),
    ([{"id": 1, "file_name": "a.jpg"}], [{"id": 1, "image_id": 1, "category_id": 5, "bbox": [0, 0, 1, 1]}],
     "annotations[0]: category_id 5 is not among the categories"),
    ([{"id": 1, "file_name": "a.jpg"}], [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1]}],
     "annotations[0]: bbox must be [x, y, width, height]"),
    ([{"id": 1, "file_name": "a.jpg"}], [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, -3, 1]}],
     "has a negative size"),
    ([{"id": 1, "file_name": "a.jpg"}], [{"id": 1, "image_id": 1, "category_id": 1}], "annotations[0]: has no 'bbox'"),
    ([{"id": 1}], [], "image 1: has no 'file_name'"),
    ([{"id": 1, "file_name": "/etc/passwd"}], [], "must be a path inside the photos folder"),
    ([{"id": 1, "file_name": "../a.jpg"}], [], "must be a path inside the photos folder"),
    ([{"id": 1, "file_name": "a.jpg"}, {"id": 1, "file_name": "b.jpg"}], [], "images[1]: id 1 is used twice"),
])
def test_a_faulty_entry_is_refused_naming_the_file_and_the_entry(tmp_path, images, annotations, message):
    path = write(tmp_path, images, annotations)
    with pytest.raises(InstancesError, match=r"instances\.json: ") as error:
        load_instances(path, str(tmp_path))
    assert message in str(error.value)


def test_a_file_that_is_not_instances_is_refused(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{ not json")
    with pytest.raises(InstancesError, match="broken.json: not a readable JSON file"):
        load_instances(str(broken), str(tmp_path))
    listed = tmp_path / "list.json"
    listed.write_text("[]")
    with pytest.raises(InstancesError, match="list.json: expected a JSON object"):
        load_instances(str(listed), str(tmp_path))
    with pytest.raises(InstancesError, match="'annotations' must be a list"):
        load_instances(write(tmp_path, [], None), str(tmp_path))
