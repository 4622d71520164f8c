import shlex

from django.core.management.base import BaseCommand, CommandError

from catalog.models import ReferenceImage
from worker.tasks import train_embedder_on_references


class Command(BaseCommand):
    help = (
        "Adapt the embedder to this catalogue's reference images (vision/training/train_embedder.py) "
        "and save it as the backbone NAME. With --rebuild-index the index is then rebuilt with it, and "
        "workers switch to it once the new index is in place."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--rebuild-index", action="store_true")
        parser.add_argument("--epochs", type=int, help="training epochs (the script's default otherwise)")
        parser.add_argument("--val", help="a labelled folder tree to pick the best epoch by kNN accuracy")
        parser.add_argument("--options", default="",
                            help='more options of the training script, e.g. --options="--batch-size 16 --resume"')

    def handle(self, name, rebuild_index, epochs, val, options, **_):
        if not ReferenceImage.objects.exists():
            raise CommandError("The catalogue has no reference images yet: run import_catalog first.")
        training_options = [*(["--epochs", str(epochs)] if epochs else []), *(["--val", val] if val else []),
                            *shlex.split(options)]
        history = train_embedder_on_references(name, training_options, rebuild_index)
        self.stdout.write(self.style.SUCCESS(
            f"Trained '{name}' for {len(history)} epochs; final loss {history[-1]['loss']:.3f}."
            + (" The index now uses it." if rebuild_index else
               f" Switch to it with: manage.py rebuild_index --backbone {name}")))
