"""Audits that show the promise failing raise the auto-accept thresholds (worker.thresholds)."""

import math

import pytest
from django.utils import timezone

from catalog.models import Category, Item, Outcome, ThresholdChange
from catalog.review import decide
from catalog.tasks import enqueue_threshold_refit
from worker.models_cache import models

pytestmark = pytest.mark.django_db

TARGET = 0.9  # what the 72 left-out references of calibrated_catalogue can show


@pytest.fixture
def accepted(make_item):
    """Items the model accepted as Fruit > Banana with these confidences, finished now."""
    def make(confidences, **fields):
        item = make_item("Fruit > Banana", confidences[-1], outcome=Outcome.ACCEPTED, accepted_depth=2,
                         predicted_path="Fruit > Banana", predicted_confidences=confidences, calibrated=True,
                         **fields)
        item.confidences = confidences
        item.save()
        item.photo.finished = timezone.now()
        item.photo.model_version = models.categorizer().model_version  # the model in use answered it
        item.photo.save()
        return item
    return make


def test_failing_audits_raise_the_threshold_record_it_and_send_recent_answers_back(
        calibrated_catalogue, accepted, staff, staff_client, settings, django_capture_on_commit_callbacks):
    settings.CATALOG_AUTO_ACCEPT_PRECISION = TARGET
    calibration = models.categorizer().index.calibration
    leaf_threshold = calibration.threshold(2, TARGET)
    confident = [1.0, min(1.0, leaf_threshold + 0.5 * (1 - leaf_threshold))]  # accepted today
    waiting = accepted(confident)
    # An audit staff have not labelled yet keeps what it measures: the model's acceptance.
    unlabelled = accepted(confident, audit=True)
    pear = Category.objects.get_or_create_path(["Fruit", "Pear"])
    for _ in range(8):  # every audit says the model was wrong
        audit = accepted(confident, audit=True)
        with django_capture_on_commit_callbacks(execute=True):  # each audit decision sends the refit
            decide(audit, pear, staff)

    changes = ThresholdChange.objects.filter(top_level="Fruit", depth=2)  # the latest first
    change = changes.first()
    raised = math.inf if change.new_threshold is None else change.new_threshold  # None: nothing is accepted
    assert changes.last().old_threshold == leaf_threshold and raised > confident[1]
    assert change.audited_right == 0 and change.audited >= 2 and change.calibration_answers > 0
    assert not ThresholdChange.objects.filter(depth=1).exists()  # every audit was right at Fruit
    assert "Fruit, level 2: 0 of " in change.reason
    waiting.refresh_from_db()
    assert waiting.review == Item.Review.PENDING and waiting.accepted_depth < 2 and waiting.outcome != Outcome.ACCEPTED
    unlabelled.refresh_from_db()
    assert (unlabelled.outcome, unlabelled.accepted_depth) == (Outcome.ACCEPTED, 2)
    assert models.categorizer().thresholds["Fruit", 2] == raised  # what workers decide with now
    shown = staff_client.get("/review/quality/").content.decode()
    assert 'id="threshold-changes"' in shown and "Fruit, level 2: 0 of" in shown


def test_audits_that_keep_the_promise_change_nothing(calibrated_catalogue, accepted, staff, settings):
    settings.CATALOG_AUTO_ACCEPT_PRECISION = TARGET
    item = accepted([1.0, 0.99], audit=True)
    decide(item, item.category, staff)
    enqueue_threshold_refit()
    assert not ThresholdChange.objects.exists()


def test_a_model_switched_on_starts_from_its_calibration_not_the_last_ones_audits(calibrated_catalogue, accepted,
                                                                                   staff, settings):
    """Another model's confidences are of another scale: its raised thresholds are not in force for
    the model in use, and its failing audits refit nothing of it (nor send its answers back)."""
    settings.CATALOG_AUTO_ACCEPT_PRECISION = TARGET
    old_model = "grocery-old@onnxruntime"
    ThresholdChange.objects.create(top_level="Fruit", depth=2, target_precision=TARGET, model=old_model,
                                   old_threshold=0.5, new_threshold=None, calibration_answers=72, audited=8,
                                   audited_right=0, reason="Audits below the target")
    assert ("Fruit", 2) not in models.categorizer().thresholds
    calibration = models.categorizer().index.calibration
    confident = [1.0, min(1.0, calibration.threshold(2, TARGET) + 0.5 * (1 - calibration.threshold(2, TARGET)))]
    pear = Category.objects.get_or_create_path(["Fruit", "Pear"])
    audited = [accepted(confident, audit=True) for _ in range(8)]
    photo = audited[0].photo  # the old model answered them all
    photo.model_version = f"{old_model}+index:5"
    photo.save()
    for audit in audited:
        decide(audit, pear, staff)
    enqueue_threshold_refit()
    assert list(ThresholdChange.objects.values_list("model", flat=True)) == [old_model]
    photo.model_version = models.categorizer().model_version  # had the model in use answered them
    photo.save()
    enqueue_threshold_refit()
    assert ThresholdChange.objects.filter(model=models.categorizer().model_version.split("+")[0]).exists()
