"""Copy every stored file between local disk and the S3 bucket, verified, and switch nothing.

    python manage.py move_media --to s3              # an install on local disk, moving to the bucket
    python manage.py move_media --to local --dir D   # the bucket into folder D (a backup)
    python manage.py move_media --to s3 --dir D      # folder D into the bucket (restoring that backup)

Files keep their names (the database names them), so the rows need no change: once every file is
copied and verified (same size, same SHA-256 read back from where it went), set CATALOG_STORAGE
on every host. Nothing is deleted at the source. A run that stopped (the network, a full disk) is
run again: a file already there whole is not copied twice. The bucket comes from the AWS_* settings
(config/settings.py), which need not be in force yet.
"""

import hashlib

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.management.base import BaseCommand, CommandError
from storages.backends.s3 import S3Storage

from catalog.storage import STORAGE_ERRORS

BLOCK = 1 << 20


class Command(BaseCommand):
    help = "Copy every stored file between local disk and the S3 bucket, verifying each (size and SHA-256)."

    def add_arguments(self, parser):
        parser.add_argument("--to", required=True, choices=("s3", "local"))
        parser.add_argument("--dir", help="the local folder (default: CATALOG_MEDIA_ROOT)")

    def handle(self, *args, to, dir=None, **options):
        if settings.CATALOG_S3_OPTIONS is None:
            raise CommandError("No bucket is set: set AWS_STORAGE_BUCKET_NAME (and AWS_S3_ENDPOINT_URL, "
                               "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) as for CATALOG_STORAGE=s3.")
        local = FileSystemStorage(location=dir or settings.MEDIA_ROOT)
        bucket = S3Storage(**settings.CATALOG_S3_OPTIONS)
        source, target = (local, bucket) if to == "s3" else (bucket, local)
        copied = present = 0
        failed = []
        try:
            names = sorted(stored_names(source))
        except FileNotFoundError as error:
            raise CommandError(f"There is no folder {local.location} to copy from.") from error
        except STORAGE_ERRORS as error:
            raise CommandError(f"The bucket cannot be read ({type(error).__name__}: {error}); nothing was copied.") \
                from error
        for name in names:
            try:
                if copy_verified(source, target, name):
                    copied += 1
                else:
                    present += 1
            except (Mismatch, *STORAGE_ERRORS) as error:
                failed.append(name)
                self.stderr.write(f"{name}: {error}")
        where = "the bucket" if to == "s3" else local.location
        summary = f"{len(names)} files: {copied} copied to {where}, {present} already there whole"
        if failed:
            raise CommandError(f"{summary}, {len(failed)} NOT copied (above). Nothing was switched; run the "
                               "command again.")
        self.stdout.write(f"{summary}; every one verified (size and SHA-256).")
        if to == "s3" and settings.CATALOG_STORAGE != "s3":
            self.stdout.write("To switch: set CATALOG_STORAGE=s3 on every host, run `python manage.py rebuild_index` "
                              "at once (it publishes the index snapshot workers start from), then restart them.")


class Mismatch(Exception):
    """A copy that does not read back as its source."""


def stored_names(storage, folder=""):
    """Every file name under `folder` of `storage`, as the rows name them."""
    folders, files = storage.listdir(folder)
    for name in files:
        yield f"{folder}/{name}" if folder else name
    for sub in folders:
        yield from stored_names(storage, f"{folder}/{sub}" if folder else sub)


def copy_verified(source, target, name):
    """Copy `name` unless `target` holds it whole already; True if copied. Raises Mismatch when
    the copy does not read back as the source."""
    size, digest = _size_and_digest(source, name)
    if _holds(target, name, size, digest):
        return False
    if target.exists(name):
        target.delete(name)  # a partial copy from a run that stopped: the name must be free to keep it
    with source.open(name, "rb") as handle:
        saved = target.save(name, handle)
    if saved != name:
        raise Mismatch(f"stored as {saved}, not under its own name")
    if not _holds(target, name, size, digest):
        raise Mismatch("the copy does not read back as the original (size or SHA-256)")
    return True


def _holds(storage, name, size, digest):
    return storage.exists(name) and storage.size(name) == size and _size_and_digest(storage, name) == (size, digest)


def _size_and_digest(storage, name):
    sha, size = hashlib.sha256(), 0
    with storage.open(name, "rb") as handle:
        for block in iter(lambda: handle.read(BLOCK), b""):
            sha.update(block)
            size += len(block)
    return size, sha.hexdigest()
