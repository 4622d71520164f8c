from django.core.management.base import BaseCommand

from worker.tasks import requeue_stale_photos


class Command(BaseCommand):
    help = ("Send again the photos and bulk jobs whose message is lost (broker or worker lost) and the decisions "
            "of listings left behind their photos or staff's decisions, and fail the photos that kept crashing "
            "their worker. The sweeper (bin/worker sweeper) runs this every CATALOG_SWEEP_SECONDS.")

    def handle(self, **options):
        count = requeue_stale_photos()
        self.stdout.write(f"{count} stale photo(s), bulk job(s) or listing decision(s) sent again.")
