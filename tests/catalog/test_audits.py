"""Audit sampling and the live precision it measures (catalog.audits)."""

import datetime
import random

import pytest
from django.utils import timezone
from scipy.stats import binomtest

from catalog import audits
from catalog.models import Category, Item, Outcome
from catalog.review import decide, set_aside

pytestmark = pytest.mark.django_db


def test_accepted_items_are_drawn_at_the_audit_rate_and_at_random(monkeypatch):
    # A seeded generator: the same draws on every run, so that CI does not pass or fail by chance.
    monkeypatch.setattr(audits, "_draws", random.Random(7))
    draws = [audits.drawn_for_audit(Outcome.ACCEPTED, rate=0.05) for _ in range(4000)]
    # The count is what a fair 5 % coin gives (a two-sided binomial test at 1 in 1000) ...
    assert binomtest(sum(draws), len(draws), 0.05).pvalue > 0.001
    # ... and no pattern: the gaps between draws vary as a random draw's do, not every 20th.
    drawn = [i for i, d in enumerate(draws) if d]
    assert len({b - a for a, b in zip(drawn, drawn[1:])}) > 20
    assert not any(audits.drawn_for_audit(Outcome.NEEDS_REVIEW, rate=1.0) for _ in range(50))
    assert all(audits.drawn_for_audit(Outcome.ACCEPTED_AT_PARENT, rate=1.0) for _ in range(50))
    assert not any(audits.drawn_for_audit(Outcome.ACCEPTED, rate=0.0) for _ in range(50))


def test_every_top_level_accepted_in_the_last_day_gets_an_audit(make_item):
    bananas = [make_item("Fruit > Banana", outcome=Outcome.ACCEPTED, predicted_path="Fruit > Banana")
               for _ in range(3)]
    make_item("Vegetables > Leek", outcome=Outcome.ACCEPTED, predicted_path="Vegetables > Leek", audit=True)
    make_item("Packages > Milk", outcome=Outcome.NEEDS_REVIEW, predicted_path="Packages > Milk")
    bananas[0].photo.finished = timezone.now()
    bananas[0].photo.save()
    assert audits.draw_daily_audits() == 1  # Fruit: none yet; Vegetables has one; Packages accepted nothing
    assert Item.objects.filter(pk__in=[b.pk for b in bananas], audit=True).count() == 1
    assert audits.draw_daily_audits() == 0
    assert audits.draw_daily_audits(timezone.now() + datetime.timedelta(days=2)) == 0  # nothing that day


def test_the_daily_audit_is_never_an_item_staff_already_decided(make_item, staff):
    # Staff opened this accepted pear because it looked wrong: drawn as an audit an hour later, it
    # would count a decision that was neither blind nor random.
    pear = make_item("Fruit > Pear", outcome=Outcome.ACCEPTED, predicted_path="Fruit > Pear")
    pear.photo.finished = timezone.now()
    pear.photo.save()
    decide(pear, Category.objects.get_or_create_path(["Fruit", "Apple"]), staff)
    assert audits.draw_daily_audits() == 0
    assert not Item.objects.filter(audit=True).exists()
    kiwi = make_item("Fruit > Kiwi", outcome=Outcome.ACCEPTED, predicted_path="Fruit > Kiwi")
    assert audits.draw_daily_audits() == 1
    assert list(Item.objects.filter(audit=True)) == [kiwi]


def test_an_audit_decision_updates_the_live_precision(make_item, staff):
    right = make_item("Fruit > Banana", outcome=Outcome.ACCEPTED, accepted_depth=2, predicted_path="Fruit > Banana",
                      audit=True)
    wrong = make_item("Fruit > Pear", outcome=Outcome.ACCEPTED, accepted_depth=2, predicted_path="Fruit > Pear",
                      audit=True)
    at_parent = make_item("Fruit > Apple", outcome=Outcome.ACCEPTED_AT_PARENT, accepted_depth=1,
                          predicted_path="Fruit > Apple", audit=True)
    make_item("Fruit > Kiwi", outcome=Outcome.ACCEPTED, accepted_depth=2, predicted_path="Fruit > Kiwi",
              review=Item.Review.CORRECTED)  # reviewed, but not an audit: not counted
    assert audits.live_precision(target=0.98) == []
    decide(right, right.category, staff)
    decide(wrong, Category.objects.get_or_create_path(["Fruit", "Apple"]), staff)
    decide(at_parent, Category.objects.get_or_create_path(["Fruit", "Apple", "Gala"]), staff)
    rows = {(row["top_level"], row["level"]): row for row in audits.live_precision(target=0.98)}
    assert set(rows) == {("Fruit", 1), ("Fruit", 2), ("Fruit", None), (audits.ALL, 1), (audits.ALL, 2),
                         (audits.ALL, None)}
    leaf = rows[("Fruit", 2)]
    assert (leaf["audited"], leaf["right"], leaf["precision"]) == (2, 1, 0.5)
    assert leaf["low"] < 0.5 < 0.98 < leaf["high"] and not leaf["failing"]  # two audits cannot show it failing
    assert rows[("Fruit", 1)]["right"] == 1 and not rows[("Fruit", 1)]["failing"]
    set_aside(right, "not_in_catalogue", staff)  # staff change their mind: it was wrongly accepted
    leaf = {(r["top_level"], r["level"]): r for r in audits.live_precision(target=0.98)}[("Fruit", 2)]
    assert leaf["right"] == 0 and leaf["high"] < 0.98 and leaf["failing"]


def test_a_row_meets_the_target_only_when_its_interval_lies_above_it():
    def row(right, wrong):
        audited = [audits.Audited("Fruit", 2, True)] * right + [audits.Audited("Fruit", 2, False)] * wrong
        return {(r["top_level"], r["level"]): r for r in audits.live_precision(audited, target=0.98)}[("Fruit", 2)]

    assert row(300, 0)["meets_target"] and not row(300, 0)["failing"]
    unproven = row(20, 0)  # right every time, but too few to tell
    assert not unproven["meets_target"] and not unproven["failing"]
    assert row(18, 2)["failing"] is False and row(80, 20)["failing"] and not row(80, 20)["meets_target"]


@pytest.mark.django_db(transaction=True)
def test_two_draws_at_once_draw_one_audit(make_item):
    # The embedded mode runs the schedule in each web process: both drew, each its own audit.
    import threading

    from django.db import connection, transaction

    bananas = [make_item("Fruit > Banana", outcome=Outcome.ACCEPTED, predicted_path="Fruit > Banana") for _ in range(5)]
    bananas[0].photo.finished = timezone.now()
    bananas[0].photo.save()
    holding, release, results = threading.Event(), threading.Event(), []

    def first():
        with transaction.atomic():
            audits.one_drawer_at_a_time()
            holding.set()
            release.wait(10)
            results.append(("first", audits.draw_daily_audits()))
        connection.close()

    def second():
        results.append(("second", audits.draw_daily_audits()))
        connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert holding.wait(10)
    threads[1].start()
    threads[1].join(1)
    assert threads[1].is_alive()  # waits for the first draw to commit
    release.set()
    for thread in threads:
        thread.join(10)
    assert sorted(results) == [("first", 1), ("second", 0)]
    assert Item.objects.filter(audit=True).count() == 1
