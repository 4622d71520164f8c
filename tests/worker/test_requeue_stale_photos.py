import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from catalog.models import Item, Listing, Photo, ReviewDecision
from worker.categorizing import MAX_ATTEMPTS
from worker.listings import update_listing_decision
from worker.sweeper import _held_ids
from worker.tasks import categorize_photo, import_bulk_job, requeue_stale_photos, train_embedder_on_references

pytestmark = pytest.mark.django_db


@pytest.fixture
def photo(banana_photo):
    return banana_photo


def age(photo, **fields):
    Photo.objects.filter(pk=photo.pk).update(**fields)


def test_a_photo_queued_for_too_long_is_sent_again(photo, imported_catalogue):
    age(photo, created=timezone.now() - timedelta(hours=2))
    assert requeue_stale_photos() == 1
    photo.refresh_from_db()
    assert photo.status == "done" and photo.items.first().category.path == "Fruit > Banana"


def test_a_photo_whose_worker_vanished_is_sent_again(photo, imported_catalogue):
    age(photo, status="processing", started=timezone.now() - timedelta(hours=1), attempts=1)
    assert requeue_stale_photos() == 1
    assert Photo.objects.get().status == "done"


def test_recent_photos_are_left_alone(photo):
    age(photo, status="processing", started=timezone.now())
    assert requeue_stale_photos() == 0
    assert Photo.objects.get().status == "processing"


def test_a_photo_that_keeps_crashing_its_worker_ends_failed(photo, imported_catalogue):
    age(photo, status="processing", started=timezone.now() - timedelta(hours=1), attempts=MAX_ATTEMPTS)
    requeue_stale_photos()
    photo.refresh_from_db()
    assert photo.status == "failed" and "stopped the categorization 3 times" in photo.failure_reason


def test_the_command_reports_what_it_sent(photo, imported_catalogue):
    age(photo, created=timezone.now() - timedelta(hours=2))
    out = io.StringIO()
    call_command("requeue_stale_photos", stdout=out)
    assert out.getvalue().strip() == "1 stale photo(s), bulk job(s) or listing decision(s) sent again."


def test_a_listing_whose_decision_was_lost_after_its_photo_is_decided(photo, imported_catalogue):
    categorize_photo(photo.id)
    # The decision after the photo failed (the index was not ready, or the task's message was lost).
    Listing.objects.filter(pk=photo.listing_id).update(category=None, outcome="", confidences=[], decided=None)
    age(photo, finished=timezone.now() - timedelta(minutes=5))
    assert requeue_stale_photos() == 1
    listing = Listing.objects.get()
    assert listing.category.path == "Fruit > Banana" and listing.outcome and listing.decided
    assert requeue_stale_photos() == 0  # decided since: left alone


def test_a_staff_decision_whose_listing_decision_was_lost_is_followed(listing, make_item, staff, owner_client):
    item = make_item("Fruit > Banana", 0.6)
    Item.objects.filter(pk=item.pk).update(review=Item.Review.ACCEPTED)
    ReviewDecision.objects.create(item=item, reviewer=staff, action=ReviewDecision.Action.ACCEPTED,
                                  old_category=item.category, new_category=item.category)
    ReviewDecision.objects.update(created=timezone.now() - timedelta(minutes=5))
    Listing.objects.filter(pk=listing.pk).update(decided=timezone.now() - timedelta(hours=1))
    page = owner_client.get(f"/listings/{listing.uuid}/").content.decode()
    assert "Updating the category after catalogue staff&#x27;s decision" in page  # the apostrophe escaped
    assert requeue_stale_photos() == 1
    listing.refresh_from_db()
    assert listing.outcome == "reviewed" and listing.category.path == "Fruit > Banana"
    assert "Chosen by staff" in owner_client.get(f"/listings/{listing.uuid}/").content.decode()


def test_a_photo_removed_while_the_broker_was_down_has_its_listing_decided_again(listing, make_item, staff):
    from catalog.listings import remove_photo
    from catalog.review import decide
    from tests.photos import encoded_upload

    banana = make_item("Fruit > Banana", 0.6)
    decide(banana, banana.category, staff)
    second = Photo.objects.create(listing=listing, original_name="pear.png", status=Photo.Status.DONE)
    second.image.save("pear.png", encoded_upload("pear.png"), save=True)
    pear = make_item("Fruit > Pear", 0.6)
    Item.objects.filter(pk=pear.pk).update(photo=second)
    decide(Item.objects.get(pk=pear.pk), pear.category, staff)  # the latest staff decision: the listing's
    update_listing_decision(listing.pk)  # as a worker does after each decision
    assert Listing.objects.get().category.path == "Fruit > Pear"
    # Removed: the decision its removal sent never ran (as when the broker is down).
    remove_photo(listing, second.uuid)
    Listing.objects.filter(pk=listing.pk).update(decided=timezone.now() - timedelta(minutes=10),
                                                 photos_removed=timezone.now() - timedelta(minutes=5))
    assert requeue_stale_photos() == 1
    assert Listing.objects.get().category.path == "Fruit > Banana"
    assert requeue_stale_photos() == 0  # decided since: left alone


def test_listings_decided_since_chosen_by_their_seller_or_too_recent_are_left_alone(listing, make_item):
    make_item("Fruit > Banana", 0.6)
    photo = listing.photos.get()
    age(photo, finished=timezone.now() - timedelta(minutes=5))
    Listing.objects.filter(pk=listing.pk).update(decided=timezone.now() - timedelta(minutes=1))
    assert requeue_stale_photos() == 0  # decided after the photo
    # The seller's own category stands whatever photos come (catalog.listings.choose_category).
    Listing.objects.filter(pk=listing.pk).update(decided=timezone.now() - timedelta(hours=1), category_chosen=True)
    assert requeue_stale_photos() == 0
    # A photo just finished: its listing's decision may be on its way.
    Listing.objects.filter(pk=listing.pk).update(category_chosen=False)
    age(photo, finished=timezone.now())
    assert requeue_stale_photos() == 0


def test_what_workers_hold_is_read_from_their_replies_and_other_tasks_are_left_out():
    """The shapes of `celery inspect` replies: active and reserved tasks, and scheduled ones (a
    retry's countdown) wrapped in a request; a training run's argument is a name, not an id."""
    active = {"worker1@host": [{"name": categorize_photo.name, "args": [7]},
                               {"name": train_embedder_on_references.name, "args": ["grocery"]}]}
    scheduled = {"worker2@host": [{"eta": "2026-12-02T20:00:00", "request": {"name": import_bulk_job.name,
                                                                              "args": [3]}}]}
    assert _held_ids([active, None, scheduled]) == {categorize_photo.name: {7}, import_bulk_job.name: {3}}
