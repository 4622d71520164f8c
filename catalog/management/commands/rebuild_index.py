from django.core.management.base import BaseCommand, CommandError

from worker.indexing import rebuild_index
from worker.models_cache import ModelUnavailable


class Command(BaseCommand):
    help = (
        "Embed every reference image with a backbone and replace the FAISS index. Workers keep "
        "serving the previous index (and its backbone) until the new one is in place, then switch."
    )

    def add_arguments(self, parser):
        parser.add_argument("--backbone", help="the backbone to build with (default: the current index's, or "
                                               "CATALOG_BACKBONE when there is none)")

    def handle(self, backbone, **options):
        try:
            index, unreadable = rebuild_index(backbone, show_progress=True)
        except ModelUnavailable as error:
            raise CommandError(str(error)) from error
        for path, reason in unreadable:
            self.stderr.write(f"skipped {path}: {reason}")
        self.stdout.write(self.style.SUCCESS(
            f"Index {index.version} built with {index.backbone_version}: {len(index)} references."))
