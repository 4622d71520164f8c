from django.core.management.base import BaseCommand, CommandError

from worker.indexing import SwitchRefused, calibration_summary, rebuild_index
from worker.models_cache import ModelUnavailable


class Command(BaseCommand):
    help = (
        "Build a new FAISS index from the reference images in the database and replace the current one. "
        "References are embedded when they have no embedding from the backbone yet (with --re-embed, all of "
        "them again). Workers keep serving the previous index (and its backbone) until the new one is in "
        "place, then switch. A new backbone's index (or a re-embedded one) replaces the serving one only if it "
        "holds the same references and is at most 0.5 points less accurate on those left out; `rollback_index` "
        "puts the "
        "replaced one back."
    )

    def add_arguments(self, parser):
        parser.add_argument("--backbone", help="the backbone to build with (default: the current index's, or "
                                               "CATALOG_BACKBONE when there is none)")
        parser.add_argument("--re-embed", action="store_true",
                            help="forget the stored embeddings and embed every reference image again")
        parser.add_argument("--force", action="store_true",
                            help="switch to the new index even if it fails its check")

    def handle(self, backbone, re_embed, force, **options):
        try:
            index, unreadable = rebuild_index(backbone, show_progress=True, re_embed=re_embed, force=force)
        except ModelUnavailable as error:
            raise CommandError(str(error)) from error
        except SwitchRefused as error:
            raise CommandError(f"{error} The serving index stays; --force switches anyway.") from error
        for path, reason in unreadable:
            self.stderr.write(f"skipped {path}: {reason}")
        self.stdout.write(self.style.SUCCESS(
            f"Index {index.version} built with {index.backbone_version}: {len(index)} references."))
        summary = calibration_summary(index)
        self.stdout.write(summary if index.calibration is not None else self.style.WARNING(summary))
