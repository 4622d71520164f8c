"""Audits count for the model whose answers they checked: switching models starts them afresh
(another model's confidences are of another scale), on the Quality page and in the API."""

import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from catalog import audits
from catalog.models import ApiToken, Category, Outcome, ThresholdChange
from catalog.review import decide

pytestmark = pytest.mark.django_db

OLD, NEW = "grocery-old@onnxruntime", "grocery-new@onnxruntime"


def _answered_by(item, model, minutes_ago):
    """`item` on a photo of its own that `model` categorized `minutes_ago`."""
    photo = item.photo
    photo.pk, photo.uuid = None, uuid.uuid4()
    photo.model_version, photo.finished = f"{model}+index:3", timezone.now() - timedelta(minutes=minutes_ago)
    photo.save()
    item.photo = photo
    item.save()
    return item


def test_the_audits_of_a_model_no_longer_in_use_are_not_counted(make_item, staff, staff_client):
    wrong = make_item("Fruit > Pear", outcome=Outcome.ACCEPTED, accepted_depth=2, predicted_path="Fruit > Pear",
                      audit=True)
    decide(_answered_by(wrong, OLD, 60), Category.objects.get_or_create_path(["Fruit", "Apple"]), staff)
    ThresholdChange.objects.create(top_level="Fruit", depth=2, target_precision=0.98, model=OLD,
                                   old_threshold=0.8, new_threshold=0.99, calibration_answers=100, audited=1,
                                   audited_right=0, reason="Audits below the target: Fruit, level 2: 0 of 1 right")
    assert audits.model_in_use() == OLD and audits.live_precision(target=0.98)[0]["right"] == 0
    right = make_item("Fruit > Banana", outcome=Outcome.ACCEPTED, accepted_depth=2,
                      predicted_path="Fruit > Banana", audit=True)
    decide(_answered_by(right, NEW, 1), right.category, staff)  # the new model categorized since

    assert audits.model_in_use() == NEW
    rows = {(row["top_level"], row["level"]): row for row in audits.live_precision(target=0.98)}
    assert (rows["Fruit", 2]["audited"], rows["Fruit", 2]["right"]) == (1, 1)  # the old model's error is not its
    assert ThresholdChange.in_force(0.98, NEW) == {} and ThresholdChange.in_force(0.98, OLD) == {("Fruit", 2): 0.99}
    page = staff_client.get("/review/quality/").content.decode()
    assert f"audits of the model in use, <code>{NEW}</code>" in page
    assert 'id="threshold-changes"' not in page and "No threshold has been raised for the model in use." in page
    staff_api = Client(HTTP_AUTHORIZATION=f"Token {ApiToken.objects.issue(staff, 'quality')[1]}")
    body = staff_api.get("/api/v1/quality/").json()
    assert body["model"] == NEW
    assert {row["audited"] for row in body["live_precision"]} == {1}
