"""Audits: what the model accepted by itself, checked by staff on a random sample, blind.

The calibration's thresholds are read off the catalogue's own references; new photos, shot on other
days, are harder (bench/README.md, "Audits"), so the promise of CATALOG_AUTO_ACCEPT_PRECISION is
measured on the live stream: a share (CATALOG_AUDIT_RATE) of the automatically accepted items is
drawn at random when it is categorized, and at least one a day of each top-level category that had
any (draw_daily_audits), and goes to the review queue as an audit. Staff label an audit without
seeing the model's answer, so the audit measures the model rather than staff's agreement with it.
The listing stays accepted meanwhile; an audit that disagrees corrects it as any review does.

Only audits are an unbiased sample of what was accepted: staff open the other accepted items
because something looked wrong, so their decisions are not counted here (the Quality page's other
tables count them, and say so).
"""

import random
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from vision.precision import precision_interval

from .models import (PATH_SEPARATOR, Item, Outcome, Photo, accepted_level_path, answered_by, answering_model,
                     category_paths)
from .quality import right_to

AUDITED_OUTCOMES = (Outcome.ACCEPTED, Outcome.ACCEPTED_AT_PARENT)
# The live precision's interval: two-sided 95 %.
CONFIDENCE_LEVEL = 0.95
ALL = "All categories"
# The PostgreSQL advisory lock a daily draw holds (any number the app uses for nothing else).
AUDIT_DRAW_LOCK_KEY = 7_316_405_222

_draws = random.Random()


def drawn_for_audit(outcome, rate=None):
    """Whether an item the model decided `outcome` for is drawn for an audit: each accepted one,
    independently, with probability CATALOG_AUDIT_RATE."""
    rate = settings.CATALOG_AUDIT_RATE if rate is None else rate
    return outcome in AUDITED_OUTCOMES and _draws.random() < rate


def draw_daily_audits(now=None):
    """Draw one audit, at random, for each top-level category whose items were accepted
    automatically in the last day without any being drawn; returns how many were drawn. Only
    items nobody has decided about are drawn: one staff opened because it looked wrong would be
    neither blind nor random."""
    since = (now or timezone.now()) - timedelta(days=1)
    accepted = Item.objects.filter(photo__status=Photo.Status.DONE, photo__finished__gte=since,
                                   outcome__in=AUDITED_OUTCOMES)
    with transaction.atomic():
        one_drawer_at_a_time()
        by_top = {}
        for pk, current, kept, audit, review in accepted.values_list(
                "pk", "predicted_category__path", "predicted_path", "audit", "review"):
            by_top.setdefault(predicted_names(current, kept)[0], []).append((pk, audit, review))
        drawn = []
        for items in by_top.values():
            undecided = [pk for pk, _, review in items if review == Item.Review.PENDING]
            if undecided and not any(audit for _, audit, _ in items):
                drawn.append(_draws.choice(undecided))
        return Item.objects.filter(pk__in=drawn, review=Item.Review.PENDING).update(audit=True)


def one_drawer_at_a_time():
    """Until the transaction ends, no other draw runs: two processes drawing at once (the embedded
    mode runs one schedule per web process) would each draw one; the second reads the first's draw
    once it commits. A PostgreSQL advisory lock: locking the day's accepted items instead held up
    every staff decision about them while the draw read them. (SQLite, one host, has none.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_DRAW_LOCK_KEY])


def decided_audits(model):
    """The audits staff have decided of `model`'s answers (catalog.models.answering_model): the one
    unbiased sample of its automatic acceptance. Another model's audits measure that model, on
    its confidences' scale: a model switched on starts its audits afresh."""
    return (Item.objects.filter(answered_by(model), audit=True, outcome__in=AUDITED_OUTCOMES)
            .exclude(review=Item.Review.PENDING))


def model_in_use():
    """The model that categorized the latest photo ("" before any): whose audits the Quality page
    shows and whose thresholds are in force."""
    latest = (Photo.objects.filter(status=Photo.Status.DONE).exclude(finished=None).order_by("-finished", "-id")
              .values_list("model_version", flat=True).first())
    return answering_model(latest or "")


def predicted_names(current, kept):
    """The model's predicted path as names: its category's path as the tree is now (`current`),
    or the path kept with the item when that category is gone."""
    return (current or kept).split(PATH_SEPARATOR)


@dataclass
class Audited:
    """An audited item staff have labelled: what the model accepted, and whether it was right."""

    top_level: str
    level: int  # the depth the model accepted
    right: bool


def audited_items(model):
    """[Audited] of every audit staff have decided of `model`'s answers: right when the category
    staff chose is the accepted level or under it (an item set aside was wrongly accepted), as the
    tree is now."""
    rows = decided_audits(model).values_list("predicted_category__path", "predicted_path", "decided_lineage",
                                        "accepted_depth", "category__path")
    paths = category_paths()
    audited = []
    for current, kept, lineage, depth, decided in rows:
        accepted = accepted_level_path(lineage, depth, current or kept, paths)
        audited.append(Audited(predicted_names(current, kept)[0], depth, right_to(decided, accepted)))
    return audited


def live_precision(audited=None, target=None, model=None):
    """[{top_level, level, audited, right, precision, low, high, target, failing, meets_target}]: the
    precision of automatic acceptance as audits measure it (of `model`'s answers, by default the
    model in use), per top-level category and accepted level, then per category over every level
    and over all categories; `failing` when even the interval's upper end is below the target (what
    refits the thresholds), `meets_target` when its lower end is at or above it (neither: the
    audits cannot tell yet)."""
    if audited is None:
        audited = audited_items(model_in_use() if model is None else model)
    target = settings.CATALOG_AUTO_ACCEPT_PRECISION if target is None else target
    groups = {}
    for item in audited:
        for key in ((item.top_level, item.level), (item.top_level, None), (ALL, item.level), (ALL, None)):
            groups.setdefault(key, []).append(item.right)
    rows = [_row(top, level, rights, target) for (top, level), rights in groups.items()]
    return sorted(rows, key=lambda row: (row["top_level"] == ALL, row["top_level"], row["level"] is None,
                                         row["level"] or 0))


def _row(top, level, rights, target):
    right, count = sum(rights), len(rights)
    low, high = precision_interval(right, count, CONFIDENCE_LEVEL)
    return {"top_level": top, "level": level, "audited": count, "right": right, "precision": right / count,
            "low": low, "high": high, "target": target, "failing": high < target, "meets_target": low >= target}
