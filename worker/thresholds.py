"""Auto-accept thresholds steered by audits.

When audits of the model in use show the promise failing (catalog.audits.live_precision: a 95 %
interval whose upper end is below the target), the threshold of each top-level category and depth is
refitted, for that model, from the index's calibration predictions and that category's audited
answers (vision.audits.refit_thresholds: audits are of the stream the promise is about), and a
threshold that rises is recorded (catalog.models.ThresholdChange, which workers read before every
photo). Another model's audits and thresholds are not that model's: its confidences are of another
scale, so a model switched on starts from its calibration's thresholds and audits of its own.
Answers accepted in the last REVIEW_BACK_DAYS days whose accepted level is now below its threshold
go back to review. Only audits are counted: staff open other accepted items because something
looked wrong, so their corrections would bias the refit towards errors.
"""

import logging
import math
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog import audits
from catalog.models import Item, Photo, ThresholdChange, answered_by, answering_model, tree_read_once
from catalog.quality import right_to
from catalog.tasks import enqueue_listing_decision
from catalog.text import percent
from vision.audits import Labelled, refit_thresholds
from vision.calibration import acceptance, threshold_at
from vision.catalogue import format_path, parse_path

from .models_cache import models

REVIEW_BACK_DAYS = 7

log = logging.getLogger(__name__)


def refit_if_failing(now=None):
    """Refit the thresholds of the model in use when its audits show the promise failing;
    [ThresholdChange] of those raised."""
    target = settings.CATALOG_AUTO_ACCEPT_PRECISION
    model = audits.model_in_use()  # as the Quality page says it
    failing = [row for row in audits.live_precision(target=target, model=model) if row["failing"]]
    if not failing:  # the models are loaded only for a refit
        return []
    categorizer = models.categorizer()
    if answering_model(categorizer.model_version) != model:
        # This process serves another model than the latest photo's (a switch under way): the refit
        # waits for the model in use to be the one whose calibration it would refit.
        log.info("thresholds not refitted: this worker serves %s, the latest photo was categorized by %s",
                 answering_model(categorizer.model_version), model)
        return []
    calibration = categorizer.index.calibration
    if calibration is None:
        return []
    labelled = audited_levels(model)
    in_force = ThresholdChange.in_force(target, model)
    reason = "Audits below the target: " + "; ".join(_described(row) for row in failing)
    with transaction.atomic():
        changes = []
        for (top_level, depth), threshold in refit_thresholds(calibration, labelled, target).items():
            old = threshold_at(calibration, target, in_force, (top_level,))(depth)
            if threshold > old:
                changes.append(_record(calibration, top_level, depth, old, threshold, labelled, target, model,
                                       reason))
        if changes:
            send_back_to_review(calibration, target, ThresholdChange.in_force(target, model), model, now)
    return changes


def audited_levels(model):
    """[vision.audits.Labelled] of every level of every decided audit's predicted path, of `model`'s
    answers: right when the category staff chose is that level or under it."""
    rows = audits.decided_audits(model).filter(calibrated=True).values_list(
        "predicted_category__path", "predicted_path", "predicted_confidences", "category__path")
    levels = []
    for current, kept, confidences, decided in rows:
        predicted = audits.predicted_names(current, kept)
        levels += [Labelled(predicted[0], depth, confidence, right_to(decided, format_path(predicted[:depth])))
                   for depth, confidence in enumerate(confidences, start=1)]
    return levels


def send_back_to_review(calibration, target, refitted, model, now=None):
    """Items `model` accepted in the last REVIEW_BACK_DAYS days, not yet reviewed, decided again
    under the `refitted` thresholds (vision.calibration.threshold_at): those whose accepted level is
    now below its threshold accept less, or nothing, and their listings are decided again. Returns
    how many changed. Audits waiting for staff keep what the model accepted: they measure that, and
    sent back they would leave the sample (the likeliest wrong first) just when the promise fails.
    Another model's answers are left as they are: their confidences are of another scale."""
    since = (now or timezone.now()) - timedelta(days=REVIEW_BACK_DAYS)
    changed, listings = 0, set()
    recent = Item.objects.filter(answered_by(model), outcome__in=audits.AUDITED_OUTCOMES, review=Item.Review.PENDING,
                                 calibrated=True, audit=False, photo__status=Photo.Status.DONE,
                                 photo__finished__gte=since)
    with tree_read_once():
        for item in recent.select_related("photo"):
            predicted = parse_path(item.shown_predicted_path)
            outcome, accepted = acceptance(item.predicted_confidences, len(item.confidences),
                                           len(item.predicted_confidences),
                                           threshold_at(calibration, target, refitted, predicted))
            if accepted < item.accepted_depth:
                item.outcome, item.accepted_depth = outcome, accepted
                item.save(update_fields=["outcome", "accepted_depth"])
                changed += 1
                listings.add(item.photo.listing_id)
    for listing_id in listings:
        transaction.on_commit(lambda listing_id=listing_id: enqueue_listing_decision(listing_id))
    return changed


def _record(calibration, top_level, depth, old, new, labelled, target, model, reason):
    theirs = [level for level in labelled
              if level.top_level == top_level and min(level.depth, calibration.depths) == depth]
    return ThresholdChange.objects.create(
        top_level=top_level, depth=depth, target_precision=target, model=model, old_threshold=_stored(old),
        new_threshold=_stored(new),
        calibration_answers=int((calibration.fit_depth == depth).sum()), audited=len(theirs),
        audited_right=sum(level.right for level in theirs), reason=reason)


def _stored(threshold):
    return threshold if math.isfinite(threshold) else None


def _described(row):
    level = "every level" if row["level"] is None else f"level {row['level']}"
    return (f"{row['top_level']}, {level}: {row['right']} of {row['audited']} right "
            f"(95 % interval {percent(row['low'], 'down')}–{percent(row['high'], 'down')})")
