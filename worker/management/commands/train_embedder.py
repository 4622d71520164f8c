import shlex

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.models import ReferenceImage
from vision.training.common import epochs_count
from vision.training.embedder import add_training_arguments, options_from
from worker.indexing import SwitchRefused
from worker.training import HOLDOUT_FRACTION, train_on_references


class Command(BaseCommand):
    help = (
        "Adapt the embedder to this catalogue's reference images (vision/training/train_embedder.py) "
        "and save it as the backbone NAME. With --rebuild-index the index is then rebuilt with it, and "
        "workers switch to it once the new index is in place."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--rebuild-index", action="store_true")
        parser.add_argument("--epochs", type=epochs_count, help="training epochs (the script's default otherwise)")
        parser.add_argument("--val", help="a labelled folder tree to pick the best epoch by kNN accuracy")
        parser.add_argument("--holdout-fraction", type=float, default=HOLDOUT_FRACTION,
                            help="references left out of training, in whole occasions, for the index to calibrate "
                                 f"its confidence on (default {HOLDOUT_FRACTION}; 0 trains on all, and every answer "
                                 "then needs review)")
        parser.add_argument("--options", default="",
                            help='more options of the training script, e.g. --options="--batch-size 16 --resume"')

    def handle(self, name, rebuild_index, epochs, val, holdout_fraction, options, **_):
        if not ReferenceImage.objects.exists():
            raise CommandError("The catalogue has no reference images yet: run import_catalog first.")
        if not 0 <= holdout_fraction < 1:
            raise CommandError("--holdout-fraction must be at least 0 and below 1.")
        flags = [*(["--epochs", str(epochs)] if epochs is not None else []), *(["--val", val] if val else []),
                 "--holdout-fraction", str(holdout_fraction), *shlex.split(options)]
        try:
            history = train_on_references(_training_options(name, flags), rebuild_index)
        except SwitchRefused as error:
            raise CommandError(f"'{name}' is trained, but the index keeps its embedder: {error} "
                               f"To switch anyway: manage.py rebuild_index --backbone {name} --force") from error
        self.stdout.write(self.style.SUCCESS(
            f"Trained '{name}' for {len(history)} epochs; final loss {history[-1]['loss']:.3f}."
            + (" The index now uses it." if rebuild_index else
               f" Switch to it with: manage.py rebuild_index --backbone {name}")))


def _training_options(name, flags):
    """The TrainingOptions the training script's flags say (its own parser, so the same names,
    defaults and checks); a flag it does not know is an error, as in the script."""
    parser = add_training_arguments(CommandParser(prog="train_embedder --options"))
    try:
        return options_from(parser.parse_args(["--name", name, *flags]))
    except CommandError as error:
        raise CommandError(f"--options: {error}") from error
