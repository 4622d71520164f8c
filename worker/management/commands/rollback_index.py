from django.core.management.base import BaseCommand, CommandError

from worker.indexing import NothingToRollBack, roll_back_index
from worker.models_cache import ModelUnavailable


class Command(BaseCommand):
    help = (
        "Put back the index that the last `rebuild_index --backbone NAME` (or --re-embed) replaced: workers "
        "switch to it on their next photo. It is then brought up to the reference images added or corrected "
        "since, with its own backbone. Run it again to undo."
    )

    def handle(self, **options):
        try:
            index, unreadable = roll_back_index(show_progress=True)
        except (NothingToRollBack, ModelUnavailable) as error:
            raise CommandError(str(error)) from error
        for path, reason in unreadable:
            self.stderr.write(f"skipped {path}: {reason}")
        self.stdout.write(self.style.SUCCESS(
            f"Rolled back: index {index.version} built with {index.backbone_version}, {len(index)} references."))
