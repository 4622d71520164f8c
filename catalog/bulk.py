"""Bulk listings: a manifest (CSV or JSON) of rows, each a listing, and the photos it names.

Rows are checked and created one at a time, each in its own transaction, so memory holds one
row's photos at most and a rejected row leaves nothing behind. Photos come from a zip archive
(read member by member, never extracted to disk) or from the request's own files.
"""

import csv
import io
import json
import posixpath
import zipfile
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from worker.photos import InvalidImage, check_photo

from .listings import create_listing
from .models import BulkJob, Listing

PHOTO_SEPARATOR = ";"
TITLE_LIMIT = Listing._meta.get_field("title").max_length
REFERENCE_LIMIT = Listing._meta.get_field("reference").max_length


class BadManifest(ValueError):
    """The manifest as a whole cannot be read; the message says why."""


class BadArchive(ValueError):
    """The photo archive as a whole cannot be read."""


@dataclass
class Row:
    number: int  # 1 for the first row of data
    title: str
    photos: list
    reference: str = ""


@dataclass
class Outcome:
    accepted: list = field(default_factory=list)  # [{row, reference, listing}]
    rejected: list = field(default_factory=list)  # [{row, reference, errors}]


def read_manifest(upload):
    """[Row] from a CSV (header: title, photos, optional reference) or JSON (a list of objects) file."""
    text = _decoded(upload)
    rows = _json_rows(text) if upload.name.lower().endswith(".json") else _csv_rows(text)
    if not rows:
        raise BadManifest("The manifest has no rows.")
    if len(rows) > settings.CATALOG_MAX_BULK_ROWS:
        raise BadManifest(f"The manifest has {len(rows)} rows; one request takes at most "
                          f"{settings.CATALOG_MAX_BULK_ROWS}. Split it into several requests.")
    return [_row(number, fields) for number, fields in enumerate(rows, start=1)]


def _decoded(upload):
    try:
        return upload.read().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BadManifest("The manifest is not UTF-8 text.") from error


def _json_rows(text):
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadManifest(f"The manifest is not valid JSON ({error.msg}, line {error.lineno}).") from error
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise BadManifest("A JSON manifest is a list of objects: "
                          '[{"title": "...", "photos": ["a.jpg"], "reference": "SKU-1"}, ...].')
    return rows


def _csv_rows(text):
    try:
        reader = csv.DictReader(io.StringIO(text))
        missing = {"title", "photos"} - set(reader.fieldnames or ())
        if missing:
            raise BadManifest(f"A CSV manifest needs a header row with the columns title and photos "
                              f"(and optionally reference); missing: {', '.join(sorted(missing))}.")
        return [{**row, "photos": [p.strip() for p in (row["photos"] or "").split(PHOTO_SEPARATOR) if p.strip()]}
                for row in reader]
    except csv.Error as error:
        raise BadManifest(f"The CSV manifest cannot be read: {error}.") from error


def _row(number, fields):
    photos = fields.get("photos")
    return Row(number, title=str(fields.get("title") or "").strip(),
               photos=photos if isinstance(photos, list) else [photos] if photos else [],
               reference=str(fields.get("reference") or "").strip())


class PhotoSource:
    """Photos by name, from a zip archive and/or the request's files."""

    def __init__(self, archive=None, files=()):
        self._files = {}
        self._duplicates = set()
        self._unsafe = set()
        for upload in files:
            self._add(upload.name, upload.read)
        self._zip = _open_zip(archive) if archive else None
        for member in self._zip.infolist() if self._zip else ():
            if not member.is_dir():
                self._add_member(member)

    def _add(self, name, read):
        if name in self._files:
            self._duplicates.add(name)
        self._files[name] = read

    def _add_member(self, member):
        name = member.filename
        if _leaves_archive(name) or "\\" in name:
            self._unsafe.add(name)
            return
        self._add(posixpath.normpath(name), lambda: self._read_member(member))

    def _read_member(self, member):
        if member.file_size > settings.CATALOG_MAX_PHOTO_BYTES:
            raise InvalidImage(f"it is {member.file_size / 1024 / 1024:.1f} MB uncompressed; "
                               f"the limit is {settings.CATALOG_MAX_PHOTO_BYTES // (1024 * 1024)} MB.")
        with self._zip.open(member) as handle:
            return handle.read(settings.CATALOG_MAX_PHOTO_BYTES + 1)

    def upload(self, name):
        """The named photo as an upload; InvalidImage says why it cannot be had."""
        if not isinstance(name, str) or not name:
            raise InvalidImage("a photo name must be a non-empty text.")
        if name in self._unsafe or _leaves_archive(name):
            raise InvalidImage("unsafe path: photo names may not leave the archive.")
        if name in self._duplicates:
            raise InvalidImage("the name appears more than once in the request; which one is meant is unclear.")
        if name not in self._files:
            raise InvalidImage("not found in the archive or the request's files.")
        return SimpleUploadedFile(posixpath.basename(name), self._files[name]())


def _leaves_archive(name):
    """An absolute path, or one that climbs out with '..'."""
    return name.startswith("/") or ".." in name.split("/")


def _open_zip(archive):
    try:
        opened = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as error:
        raise BadArchive("The archive is not a readable zip file.") from error
    limit = settings.CATALOG_MAX_BULK_ROWS * settings.CATALOG_MAX_PHOTOS_PER_LISTING
    if len(opened.infolist()) > limit:
        raise BadArchive(f"The archive holds {len(opened.infolist())} files; a request takes at most {limit}.")
    return opened


def import_rows(seller, rows, photos):
    """A BulkJob with one listing per acceptable row; the others listed with their errors."""
    job = BulkJob.objects.create(seller=seller, rows=len(rows))
    outcome = Outcome()
    for row in rows:
        checked, errors = _check_row(row, photos)
        if errors:
            outcome.rejected.append({"row": row.number, "reference": row.reference, "errors": errors})
            continue
        listing = create_listing(seller, row.title, checked, reference=row.reference, bulk_job=job)
        outcome.accepted.append({"row": row.number, "reference": row.reference, "listing": str(listing.uuid)})
    job.rejected = outcome.rejected
    job.save(update_fields=["rejected"])
    return job, outcome


def _check_row(row, photos):
    """(checked photos, errors) of one row; any error rejects the whole row."""
    errors = _field_errors(row)
    checked = []
    for name in row.photos:
        try:
            checked.append(check_photo(photos.upload(name)))
        except (InvalidImage, zipfile.BadZipFile, OSError) as error:
            errors.append(f"{name}: {error}")
    return checked, errors


def _field_errors(row):
    errors = []
    if not row.title:
        errors.append("title: required.")
    elif len(row.title) > TITLE_LIMIT:
        errors.append(f"title: at most {TITLE_LIMIT} characters.")
    if len(row.reference) > REFERENCE_LIMIT:
        errors.append(f"reference: at most {REFERENCE_LIMIT} characters.")
    if not row.photos:
        errors.append("photos: at least one photo is required.")
    elif len(row.photos) > settings.CATALOG_MAX_PHOTOS_PER_LISTING:
        errors.append(f"photos: at most {settings.CATALOG_MAX_PHOTOS_PER_LISTING} per listing.")
    return errors
