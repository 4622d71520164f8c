from django.core.management.base import BaseCommand

from worker.tasks import requeue_stale_photos


class Command(BaseCommand):
    help = ("Send again the photos that no worker finished in time (broker or worker lost), and fail "
            "those that kept crashing their worker. Celery beat runs this every 5 minutes.")

    def handle(self, **options):
        count = requeue_stale_photos()
        self.stdout.write(f"{count} stale photo(s) sent again.")
