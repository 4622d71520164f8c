"""The API's CHANGELOG.md records every version: its newest entry is the schema's version."""

import re
from pathlib import Path

CHANGELOG = Path(__file__).resolve().parents[2] / "CHANGELOG.md"


def test_the_newest_changelog_entry_is_the_schemas_version(client, settings):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    newest = re.search(r"^## (\S+) — \d{4}-\d{2}-\d{2}$", CHANGELOG.read_text(), re.MULTILINE).group(1)
    assert newest == schema["info"]["version"] == settings.SPECTACULAR_SETTINGS["VERSION"]
