from django.core.management.base import BaseCommand, CommandError

from catalog.models import Category, ReferenceImage
from worker.importing import import_catalogue
from worker.indexing import SwitchRefused, calibration_summary
from worker.models_cache import ModelUnavailable


class Command(BaseCommand):
    help = (
        "Import folder-tree catalogues (Fruit/Apple/Granny-Smith/*.jpg: the folder path is the "
        "category path) as categories and reference images, then rebuild the index. Files already "
        "imported (same content) are skipped; unreadable files are reported, not fatal."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", nargs="+", help="one or more catalogue folders, imported together")
        parser.add_argument("--backbone", help="build the index with this backbone (default: keep the index's, "
                                               "or CATALOG_BACKBONE for a first index)")

    def handle(self, directory, backbone, **options):
        try:
            report = import_catalogue(directory, backbone, show_progress=True)
        except (FileNotFoundError, ModelUnavailable) as error:
            raise CommandError(str(error)) from error
        except SwitchRefused as error:
            raise CommandError(f"The images are imported, but the index keeps its embedder: {error} To switch "
                               f"anyway: manage.py rebuild_index --backbone {backbone} --force") from error
        if not report.found:
            raise CommandError(f"No images found under {', '.join(directory)} (expected Category/Subcategory/*.jpg).")
        for path, reason in report.unreadable:
            self.stderr.write(f"skipped {path}: {reason}")
        self.stdout.write(self.style.SUCCESS(
            f"{report.found} images found: {report.added} imported, {report.already_imported} already imported, "
            f"{len(report.unreadable)} unreadable. The catalogue has {Category.objects.count()} categories "
            f"and {ReferenceImage.objects.count()} reference images."
        ))
        if report.index is not None:
            summary = f"The index was rebuilt. {calibration_summary(report.index)}"
            self.stdout.write(summary if report.index.calibration is not None else self.style.WARNING(summary))
