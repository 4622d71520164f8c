from PIL import Image

from vision.catalogue import scan_catalogue


def add_image(root, relative):
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8)).save(path)


def test_the_folder_path_is_the_category_path(tmp_path):
    add_image(tmp_path, "Fruit/Apple/Granny-Smith/1.jpg")
    add_image(tmp_path, "Fruit/Banana/1.jpg")
    add_image(tmp_path, "Home & Garden/Garden tools/Hand trowels/trowel 1.PNG")
    found = {(image.category, image.path.rsplit("/", 1)[-1]) for image in scan_catalogue(tmp_path)}
    assert found == {
        (("Fruit", "Apple", "Granny-Smith"), "1.jpg"),
        (("Fruit", "Banana"), "1.jpg"),
        (("Home & Garden", "Garden tools", "Hand trowels"), "trowel 1.PNG"),
    }


def test_it_skips_hidden_files_non_images_and_top_level_files(tmp_path):
    add_image(tmp_path, "Fruit/1.jpg")
    add_image(tmp_path, "stray.jpg")
    add_image(tmp_path, ".thumbnails/Fruit/1.jpg")
    add_image(tmp_path, "Fruit/.hidden.jpg")
    (tmp_path / "Fruit" / "notes.txt").write_text("not a photo")
    assert [image.category for image in scan_catalogue(tmp_path)] == [("Fruit",)]


def test_the_order_is_stable(tmp_path):
    for name in ("b.jpg", "a.jpg", "c.jpg"):
        add_image(tmp_path, f"X/{name}")
    assert [i.path[-5:] for i in scan_catalogue(tmp_path)] == ["a.jpg", "b.jpg", "c.jpg"]
