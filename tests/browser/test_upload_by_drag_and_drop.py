"""Photos dropped onto the upload form are listed with their sizes and uploaded; an iPhone's HEIC
photo is then shown on the listing page (browsers cannot show HEIC itself)."""

import base64
import re
from pathlib import Path

from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.photos import grocery_images

DROP = """([files, selector]) => {
    const transfer = new DataTransfer();
    for (const [name, type, data] of files) {
        const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        transfer.items.add(new File([bytes], name, { type }));
    }
    document.querySelector(selector).dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true }));
}"""


def heic_file(tmp_path):
    path = tmp_path / "IMG_0042.HEIC"
    Image.open(grocery_images("val", "Fruit/Banana", 1)[0]).save(path, "HEIF")
    return path


def test_dropped_photos_are_uploaded_and_a_heic_photo_is_shown(served, imported_catalogue, owner, page, screenshot,
                                                              tmp_path):
    log_in(page, served, owner)
    page.get_by_role("link", name="New listing").click()
    page.get_by_label("Title").fill("Bananas")
    photos = ((heic_file(tmp_path), "image/heic"), (Path(grocery_images("val", "Fruit/Banana", 2)[1]), "image/jpeg"))
    files = [(path.name, mime, base64.b64encode(path.read_bytes()).decode()) for path, mime in photos]
    page.evaluate(DROP, [files, "#dropzone"])

    chosen = page.locator("#chosen-files li")
    expect(chosen).to_have_count(2)
    expect(chosen.first).to_have_text(re.compile(r"^IMG_0042\.HEIC \(\d+ KB\)$"))
    screenshot(page, "1-dropped")
    page.get_by_role("button", name="Upload and categorize").click()

    page.wait_for_url(re.compile(r"/listings/[0-9a-f-]+/$"))
    expect(page.get_by_role("img", name="IMG_0042.HEIC")).to_be_visible()
    # Decoded by the browser (a broken image has no natural width); the cards are redrawn while
    # photos are categorized, so the image is looked up afresh each time.
    page.wait_for_function("""() => {
        const img = document.querySelector('img[alt*="IMG_0042.HEIC"]');
        return img && img.complete && img.naturalWidth > 0;
    }""")
    screenshot(page, "2-heic-shown")
