"""Bulk listings: a manifest (CSV or JSON) of rows, each a listing, and the photos it names.

The request reads and checks the manifest's text and the archive, stores them with a pending
BulkJob and answers at once; a task (worker.tasks.import_bulk_job -> run_job) then checks each
row's photos and creates the row's listing, one row at a time in its own transaction, so memory
holds one row's photos at most, a rejected row leaves nothing behind and a task run again goes on
from the rows not yet made. Photos come from a zip archive (read member by member, never
extracted to disk) or from the request's own files (kept as a zip until the job is done).
"""

import contextlib
import csv
import io
import json
import logging
import posixpath
import re
import tempfile
import warnings
import zipfile
import zlib
from dataclasses import asdict, dataclass, field
from functools import partial

from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from vision.images import InvalidImage

from .listings import OverQuota, create_listing
from .models import REFERENCE_LIMIT, TITLE_LIMIT, BulkJob, Photo
from .photos import check_photo
from .storage import STORAGE_ERRORS
from .tasks import enqueue_bulk_job
from .text import has_control_characters, single_line

log = logging.getLogger(__name__)

PHOTO_SEPARATOR = ";"
# A row is {"title", "photos": [...], "reference"} in a list: three levels.
MAX_JSON_DEPTH = 3
# 5,000 rows of long titles and 20 photo names each fit with room to spare.
MAX_MANIFEST_BYTES = 20 * 1024 * 1024


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
    errors: list = field(default_factory=list)  # found in its text, before any photo is read


def read_manifest(upload):
    """[Row] from a CSV (header: title, photos, optional reference) or JSON (a list of objects) file.

    Every row's text is checked here, before any row is created; a row with bad text carries its
    errors and is rejected like a row with a bad photo."""
    if upload.size > MAX_MANIFEST_BYTES:
        raise BadManifest(f"The manifest is {upload.size / 1024 / 1024:.1f} MB; it may be at most "
                          f"{MAX_MANIFEST_BYTES // (1024 * 1024)} MB. Split it into several requests.")
    text = _decoded(upload)
    rows = _json_rows(text) if upload.name.lower().endswith(".json") else _csv_rows(text)
    if not rows:
        raise BadManifest("The manifest has no rows.")
    if len(rows) > settings.CATALOG_MAX_BULK_ROWS:
        raise BadManifest(f"The manifest has {len(rows)} rows; one request takes at most "
                          f"{settings.CATALOG_MAX_BULK_ROWS}. Split it into several requests.")
    return _with_repeated_references(_row(number, fields) for number, fields in enumerate(rows, start=1))


def _with_repeated_references(rows):
    """The rows, a reference given by an earlier row rejecting each later one: the seller finds a
    listing by its reference (GET /api/v1/listings/?reference=), which must name one."""
    rows, first = list(rows), {}
    for row in rows:
        if row.reference in first:
            row.errors.append(f"reference “{row.reference}” is row {first[row.reference]}'s already; give each row "
                              f"its own.")
        elif row.reference:
            first[row.reference] = row.number
    return rows


def _decoded(upload):
    try:
        return upload.read().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BadManifest("The manifest is not UTF-8 text.") from error


JSON_SHAPE = '[{"title": "...", "photos": ["a.jpg"], "reference": "SKU-1"}, ...]'


def _json_rows(text):
    # Measured before parsing: a deeply nested document would exhaust the parser's stack.
    if _json_depth(text) > MAX_JSON_DEPTH:
        raise BadManifest(f"A JSON manifest is a list of flat objects, {JSON_SHAPE}; this one nests deeper.")
    try:
        # Numbers are kept as their text, never evaluated (1e9999999999999999999 is past even
        # Decimal's range); wherever text is expected they are refused below.
        rows = json.loads(text, parse_int=JsonNumber, parse_float=JsonNumber, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise BadManifest(f"The manifest is not valid JSON ({error.msg}, line {error.lineno}).") from error
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise BadManifest(f"A JSON manifest is a list of objects: {JSON_SHAPE}.")
    return rows


class JsonNumber:
    """A number in a JSON manifest, as written: no field of a row takes one."""

    def __init__(self, text):
        self.text = text


def _json_depth(text):
    """How deep the document's arrays and objects nest, strings left out."""
    depth = deepest = 0
    for bracket in re.findall(r"[\[\]{}]", re.sub(r'"(?:[^"\\]|\\.)*"', "", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _refuse_constant(name):
    raise BadManifest(f"The manifest is not valid JSON ({name} is not a JSON value).")


CSV_COLUMNS = {"title", "photos"}
# Excel writes CSV with semicolons where the comma is the decimal mark, and "Unicode text" with tabs.
CSV_DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}


def _csv_rows(text):
    delimiter = _csv_delimiter(text)
    starts = 1  # the line the row being read begins on, as far as the reader has told
    try:
        # strict: a quote left open is an error, not a field that swallows the rows after it.
        reader = csv.DictReader(io.StringIO(text), delimiter=delimiter, strict=True)
        missing = CSV_COLUMNS - set(reader.fieldnames or ())
        if missing:
            raise BadManifest(f"A CSV manifest needs a header row with the columns title and photos "
                              f"(and optionally reference), separated by commas or semicolons; missing: "
                              f"{', '.join(sorted(missing))}.")
        rows, starts = [], reader.line_num + 1
        for row in reader:
            rows.append(_csv_fields(row, delimiter))
            starts = reader.line_num + 1
        return rows
    except csv.Error as error:
        # The reader's own line number is where it gave up (for a quote left open, the last line):
        # the seller needs the first line after the last row read whole.
        raise BadManifest(f"The CSV manifest cannot be read from line {starts} on: {error} "
                          "(a double quote left open?).") from error


def _csv_delimiter(text):
    """The delimiter whose split of the header row names the required columns (a comma otherwise)."""
    header = next(iter(text.splitlines()), "")
    return next((d for d in CSV_DELIMITERS if CSV_COLUMNS <= set(next(csv.reader([header], delimiter=d), []))), ",")


class UnreadableLine:
    """A CSV line that could not be read as a row, with why: a class, not a field a manifest could
    hold (a row of its own with an "errors" field would be taken for it)."""

    def __init__(self, error):
        self.error = error


def _csv_fields(row, delimiter):
    """A CSV row as a JSON row's fields; a line break inside a field or surplus fields are errors."""
    if None in row:
        return UnreadableLine(f"has more fields than the header ({len(row[None])} too many); put a field that "
                              f"holds a {CSV_DELIMITERS[delimiter]} in double quotes.")
    if any("\n" in value or "\r" in value for value in row.values() if value):
        return UnreadableLine("a field spans several lines: a quote left open?")
    return {**row, "photos": [p.strip() for p in (row["photos"] or "").split(PHOTO_SEPARATOR) if p.strip()]}


def _row(number, fields):
    if isinstance(fields, UnreadableLine):
        return Row(number, title="", photos=[], errors=[fields.error])
    errors = []
    title = _text(fields.get("title", ""), "title", TITLE_LIMIT, errors)
    reference = _text(fields.get("reference") or "", "reference", REFERENCE_LIMIT, errors, required=False)
    photos = fields.get("photos") or []
    if isinstance(photos, str):
        photos = [photos]
    if not isinstance(photos, list) or not all(isinstance(name, str) for name in photos):
        errors.append("photos must be a list of file names.")
        photos = []
    elif any(has_control_characters(name) for name in photos):
        # Not kept: PostgreSQL stores no NUL, and the name cannot be in the archive anyway.
        errors.append("photos: a file name holds control characters (such as NUL); name the photos in plain text.")
        photos = []
    elif not photos:
        errors.append("photos: at least one photo is required.")
    elif len(photos) > settings.CATALOG_MAX_PHOTOS_PER_LISTING:
        errors.append(f"photos: at most {settings.CATALOG_MAX_PHOTOS_PER_LISTING} per listing.")
    return Row(number, title=title, photos=photos, reference=reference, errors=errors)


def _text(value, name, limit, errors, required=True):
    try:
        return single_line(value, limit, required)
    except ValueError as error:
        errors.append(f"{name} {error}")
        return ""


class PhotoSource:
    """Photos by name, from zip archives (the seller's archive, the request's files zipped)."""

    def __init__(self, *archives):
        self._files = {}
        self._duplicates = set()
        self._unsafe = set()
        self._used_by = {}  # name -> the row that took it
        self._sent_bytes = {}  # name -> what it took in the request: a photo's bytes against its pixels
        for archive in filter(None, archives):
            opened = _open_zip(archive)
            for member in opened.infolist():
                if not member.is_dir():
                    self._add_member(opened, member)

    def _add_member(self, opened, member):
        name = member.filename
        if _leaves_archive(name) or "\\" in name:
            self._unsafe.add(name)
            return
        name = posixpath.normpath(name)
        if name in self._files:
            self._duplicates.add(name)
        self._files[name] = partial(_read_member, opened, member)
        self._sent_bytes[name] = member.compress_size

    def take(self, name, row):
        """Spend the named photo on `row`; InvalidImage says why it cannot be had. Each photo
        serves one row, so that no member is unpacked and stored again and again."""
        if not isinstance(name, str) or not name:
            raise InvalidImage("a photo name must be a non-empty text.")
        if name in self._unsafe or _leaves_archive(name):
            raise InvalidImage("unsafe path: photo names may not leave the archive.")
        if name in self._duplicates:
            raise InvalidImage("the name appears more than once in the request; which one is meant is unclear.")
        if name not in self._files:
            raise InvalidImage("not found in the archive or the request's files.")
        if name in self._used_by:
            raise InvalidImage(f"already used by row {self._used_by[name]}; each photo of a request belongs to "
                               "one listing.")
        self._used_by[name] = row

    def checked(self, name, row):
        """The named photo, taken for `row` (see take), checked (catalog.photos.check_photo) against
        the bytes it took in the request: a few compressed bytes that decode to megapixels are a bomb."""
        self.take(name, row)
        return check_photo(SimpleUploadedFile(posixpath.basename(name), self._files[name]()),
                           sent_bytes=max(1, self._sent_bytes[name]))


# The compression methods Python's zipfile reads; others (Deflate64, PPMd, ...) it refuses.
READABLE_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)
ENCRYPTED = 0x1  # a zip member's flag bit


def _read_member(opened, member):
    """The member's bytes; InvalidImage says why this one member cannot be read, so that only its
    row is rejected (the others are read from the same archive)."""
    if member.file_size > settings.CATALOG_MAX_PHOTO_BYTES:
        raise InvalidImage(f"it is {member.file_size / 1024 / 1024:.1f} MB uncompressed; "
                           f"the limit is {settings.CATALOG_MAX_PHOTO_BYTES // (1024 * 1024)} MB.")
    if member.flag_bits & ENCRYPTED:
        raise InvalidImage("it is encrypted in the archive; zip the photos without a password.")
    if member.compress_type not in READABLE_COMPRESSION:
        raise InvalidImage("it is compressed with a method this server cannot read (such as Deflate64); "
                           "zip the photos with ordinary compression.")
    try:
        with opened.open(member) as handle:
            return handle.read(settings.CATALOG_MAX_PHOTO_BYTES + 1)
    except (zlib.error, EOFError, NotImplementedError, RuntimeError) as error:
        raise InvalidImage(f"its data in the archive cannot be unpacked ({error}).") from error


def zipped(files):
    """The request's photo files as one zip (stored, not compressed: photos do not shrink)."""
    spool = tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024)
    with zipfile.ZipFile(spool, "w", zipfile.ZIP_STORED) as archive, warnings.catch_warnings():
        # Two files of one name are kept both: PhotoSource then rejects the rows that name them.
        warnings.filterwarnings("ignore", "Duplicate name", UserWarning)
        for upload in files:
            with archive.open(upload.name, "w", force_zip64=True) as member:
                for chunk in upload.chunks():
                    member.write(chunk)
    spool.seek(0)
    return File(spool, name="files.zip")


def _leaves_archive(name):
    """An absolute path, or one that climbs out with '..'."""
    return name.startswith("/") or ".." in name.split("/")


def _open_zip(archive):
    try:
        opened = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as error:
        raise BadArchive("The archive is not a readable zip file.") from error
    except UnicodeDecodeError as error:  # a name marked UTF-8 that is not
        raise BadArchive("The archive names a file in bytes that are not UTF-8 text, though it says they "
                         "are; zip it again.") from error
    limit = settings.CATALOG_MAX_BULK_ROWS * settings.CATALOG_MAX_PHOTOS_PER_LISTING
    if len(opened.infolist()) > limit:
        raise BadArchive(f"The archive holds {len(opened.infolist())} files; a request takes at most {limit}.")
    return opened


def start_job(seller, rows, archive, files):
    """A pending BulkJob of the checked rows, holding the photos; its import is sent once saved."""
    job = BulkJob(seller=seller, rows=len(rows), manifest=[asdict(row) for row in rows])
    if archive:
        job.archive.save("photos.zip", archive, save=False)
    if files:
        job.loose_photos.save("files.zip", zipped(files), save=False)
    with transaction.atomic():
        job.save()
        transaction.on_commit(partial(enqueue_bulk_job, job.id))
    return job


def run_job(job_id):
    """Create a listing for each acceptable row of the job not yet made, list the others with
    their errors, and mark the job done; a job already done is left alone."""
    job = BulkJob.objects.select_related("seller").filter(pk=job_id).first()
    if job is None or job.status == BulkJob.Status.DONE:
        return
    BulkJob.objects.filter(pk=job.pk).update(status=BulkJob.Status.IMPORTING)
    with _opened(job.archive) as archive, _opened(job.loose_photos) as loose:
        rejected = _import_rows(job, [Row(**fields) for fields in job.manifest], PhotoSource(archive, loose))
    finish_job(job, rejected)


def _import_rows(job, rows, photos):
    """[{row, reference, errors}] of the rejected rows; the others become listings."""
    made = set(job.listings.values_list("bulk_row", flat=True))
    spent = Photo.objects.filter(listing__bulk_job=job).aggregate(pixels=Sum(F("width") * F("height")))["pixels"]
    budget = PixelBudget(settings.CATALOG_MAX_REQUEST_PIXELS - (spent or 0))
    rejected = []
    for row in rows:
        if row.number in made:  # by an earlier run of the task; its photos stay spent
            for name in row.photos:
                with contextlib.suppress(InvalidImage):
                    photos.take(name, row.number)
            continue
        checked, errors = _check_row(row, photos)
        errors = errors or budget.take(checked)
        if not errors:
            errors = _create_row_listing(job, row, checked)
            if errors:  # not made: its pixels are the request's again
                budget.give_back(checked)
        if errors:
            rejected.append({"row": row.number, "reference": row.reference, "errors": errors})
    return rejected


def _create_row_listing(job, row, checked):
    """[] once the row's listing is made, else why the row is rejected."""
    try:
        create_listing(job.seller, row.title, checked, reference=row.reference, bulk_job=job, bulk_row=row.number)
    except OverQuota as refusal:
        return [str(refusal)]
    except IntegrityError:  # another run of the task made the row meanwhile
        log.info("bulk job %s: row %s was made by another run", job.uuid, row.number)
    return []


def finish_job(job, rejected):
    """Mark the job done with its rejected rows, and let go of its rows and its stored photos: the
    rows made are listings now, which the seller may delete, and a copy of their titles and photo
    names kept here would outlive them (where the storage does not answer, catalog.housekeeping
    tries the photos again: a retry of the task would find the job done)."""
    job.rejected, job.status, job.finished, job.unsent = rejected, BulkJob.Status.DONE, timezone.now(), False
    job.manifest = []
    job.save(update_fields=["rejected", "status", "finished", "unsent", "manifest"])
    let_go_of_photos(job)


def let_go_of_photos(job):
    """Delete the job's stored archives, each forgotten once deleted; how many were. One the storage
    fails to delete is kept named, and logged."""
    deleted = 0
    for stored in (job.archive, job.loose_photos):
        if stored:
            try:
                stored.delete(save=False)
            except STORAGE_ERRORS as error:
                log.warning("bulk job %s: %s not deleted (%r); tidy_up tries again", job.uuid, stored.name, error)
                continue
            deleted += 1
    job.save(update_fields=["archive", "loose_photos"])
    return deleted


def give_up_job(job_id, reason):
    """End a job that cannot be imported: its rows not made are rejected with `reason`."""
    job = BulkJob.objects.filter(pk=job_id).first()
    if job is None or job.status == BulkJob.Status.DONE:
        return
    made = set(job.listings.values_list("bulk_row", flat=True))
    finish_job(job, [{"row": fields["number"], "reference": fields["reference"], "errors": [reason]}
                     for fields in job.manifest if fields["number"] not in made])


def _opened(stored):
    """The stored file opened for reading, or None when the job has none."""
    return stored.open("rb") if stored else contextlib.nullcontext()


class PixelBudget:
    """The pixels one request may bring in all, spent row by row: a small archive of huge, plain
    photos costs little to send and minutes of worker time to categorize."""

    def __init__(self, pixels):
        self.left = pixels

    def take(self, checked):
        """[] if the row's photos fit (and are spent), else the reason the row is rejected."""
        pixels = _pixels(checked)
        if pixels > self.left:
            return [f"the request's photos come to more than {settings.CATALOG_MAX_REQUEST_PIXELS / 1e6:,.0f} "
                    "megapixels in all; send this row in another request."]
        self.left -= pixels
        return []

    def give_back(self, checked):
        self.left += _pixels(checked)


def _pixels(checked):
    return sum(photo.width * photo.height for photo in checked)


def _check_row(row, photos):
    """(checked photos, errors) of one row; any error rejects the whole row."""
    errors = list(row.errors)
    checked = []
    for name in row.photos:
        try:
            checked.append(photos.checked(name, row.number))
        except (InvalidImage, zipfile.BadZipFile, OSError) as error:
            errors.append(f"{name}: {error}")
    return checked, errors
