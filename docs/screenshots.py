"""Screenshots of each section of a vision.report page, for the README.

    python docs/screenshots.py REPORT_DIR NAME

writes docs/report-NAME-SECTION.png for every section of REPORT_DIR/index.html, through Debian's
Chromium (bin/browser), at a laptop's width.
"""

import os
import sys

from playwright.sync_api import sync_playwright

DOCS = os.path.dirname(os.path.abspath(__file__))


def main(report_dir, name):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"file://{os.path.abspath(report_dir)}/index.html")
        for section in page.locator("section").all():
            path = os.path.join(DOCS, f"report-{name}-{section.get_attribute('id')}.png")
            section.screenshot(path=path)
            print(path)
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
