"""What the upload form and the listing's tools say as soon as a seller chooses files or saves an
edit that is refused: too many photos and an empty file are said when chosen (the form is held
back; nothing is sent), sizes are true, and a refused edit keeps what the seller typed."""

import re

from playwright.sync_api import expect

from catalog.models import Category, Listing, Photo
from tests.browser.conftest import listing_of, log_in
from tests.photos import png_bytes


def _files(*named):
    return [{"name": name, "mimeType": "image/png", "buffer": data} for name, data in named]


def test_too_many_photos_and_an_empty_file_are_said_when_chosen(served, owner, page, settings, screenshot):
    settings.CATALOG_MAX_PHOTOS_PER_LISTING = 2
    log_in(page, served, owner)
    page.goto(f"{served}/listings/new/")
    page.get_by_label("Title").fill("Mugs")
    chosen = page.locator("#chosen-files")
    page.locator("input[type=file]").set_input_files(_files(("a.png", png_bytes()), ("b.png", png_bytes()),
                                                            ("empty.png", b"")))
    expect(chosen).to_contain_text("A listing takes at most 2 photos; you chose 3.")
    expect(chosen).to_contain_text("empty.png (0 bytes: the file is empty)")
    expect(chosen).not_to_contain_text("1 KB")
    screenshot(page, "refused-choice")
    page.get_by_role("button", name="Upload and categorize").click()
    expect(page).to_have_url(re.compile("/listings/new/$"))
    assert not page.evaluate("document.querySelector('input[type=file]').validity.valid")
    assert not Listing.objects.exists()

    page.locator("input[type=file]").set_input_files(_files(("a.png", png_bytes()), ("b.png", png_bytes())))
    expect(chosen.locator(".error")).to_have_count(0)
    assert page.evaluate("document.querySelector('input[type=file]').validity.valid")


def test_adding_more_photos_than_fit_is_said_when_chosen(served, owner, page, settings, tmp_path):
    settings.CATALOG_MAX_PHOTOS_PER_LISTING = 2
    photo = tmp_path / "one.png"
    photo.write_bytes(png_bytes())
    listing = listing_of(owner, "Mug", photo)
    log_in(page, served, owner)
    page.goto(f"{served}/listings/{listing.uuid}/")
    page.get_by_text("Edit this listing").click()
    page.get_by_label("Add photos").set_input_files(_files(("b.png", png_bytes()), ("c.png", png_bytes())))
    expect(page.locator("#added-files")).to_contain_text(
        "A listing takes at most 2 photos; this one has 1, so 1 more fit.")
    page.get_by_role("button", name="Upload").click()
    assert Photo.objects.filter(listing=listing).count() == 1


def test_a_refused_edit_keeps_what_the_seller_typed(served, owner, page, tmp_path):
    photo = tmp_path / "one.png"
    photo.write_bytes(png_bytes())
    listing = listing_of(owner, "Mug", photo)
    Category.objects.get_or_create_path(["Kitchen", "Mugs"])
    log_in(page, served, owner)
    page.goto(f"{served}/listings/{listing.uuid}/")

    page.get_by_text("Edit this listing").click()
    page.get_by_label("Category").fill("Kitchen > Cups")  # not in the tree
    page.get_by_role("button", name=re.compile("category")).click()
    expect(page.locator(".listing-tools")).to_contain_text("Kitchen > Cups")  # said in the error
    expect(page.get_by_label("Category")).to_have_value("Kitchen > Cups")

    page.get_by_label("Title").fill("Big mug\u0007 with a bell")
    page.get_by_role("button", name="Save title").click()
    expect(page.locator(".listing-tools .error").first).to_be_visible()
    expect(page.get_by_label("Title")).to_have_value("Big mug\u0007 with a bell")
    assert Listing.objects.get().title == "Mug"
