"""In the embedded mode of bin/run (no broker) the upload is answered at once: the photos are
categorized on the web process's background thread (worker.embedded), not in the request."""

import pytest
from PIL import Image

from catalog.models import Listing, Photo
from tests.photos import grocery_upload
from worker import embedded

pytestmark = pytest.mark.django_db(transaction=True)  # the background thread has a connection of its own


@pytest.fixture
def in_the_background(settings):
    settings.CATALOG_EMBEDDED_TASKS = "background"
    yield
    assert embedded.wait_idle(300), "the background tasks did not finish"


def test_the_upload_returns_before_its_photos_are_categorized(in_the_background, owner_client, imported_catalogue):
    uploads = [grocery_upload("Fruit/Banana", index) for index in range(3)]
    response = owner_client.post("/listings/new/", {"title": "Bananas", "photos": uploads})

    assert response.status_code == 302
    statuses_when_answered = list(Photo.objects.values_list("status", flat=True))
    assert set(statuses_when_answered) <= set(Photo.Status.pending()), statuses_when_answered
    assert embedded.wait_idle(300)
    listing = Listing.objects.get()
    assert [p.status for p in listing.photos.all()] == ["done"] * 3
    assert listing.category.path == "Fruit > Banana"


def test_a_restarted_server_resumes_the_photos_it_had_not_categorized(owner, imported_catalogue, settings):
    upload = grocery_upload("Fruit/Banana")
    width, height = Image.open(upload).size
    listing = Listing.objects.create(seller=owner, title="Left over")
    photo = Photo(listing=listing, original_name="banana.jpg", width=width, height=height,
                  status=Photo.Status.PROCESSING)
    photo.image.save("photo.jpg", upload, save=True)
    settings.CATALOG_EMBEDDED_TASKS = "background"

    embedded.resume_unfinished()

    assert embedded.wait_idle(300)
    photo.refresh_from_db()
    assert photo.status == "done" and photo.items.exists()


def test_a_restarted_server_makes_the_listing_decisions_it_had_not_made(owner, staff, make_item, listing, settings):
    # Staff accepted an item, and the server stopped before the listing's decision ran (its queue
    # lives in memory): the page said "Updating the category…" for good.
    from catalog.models import Item, ReviewDecision

    item = make_item("Fruit > Banana", 0.6)
    Item.objects.filter(pk=item.pk).update(review=Item.Review.ACCEPTED)
    ReviewDecision.objects.create(item=item, reviewer=staff, action=ReviewDecision.Action.ACCEPTED,
                                  old_category=item.category, new_category=item.category)
    assert Listing.objects.get().awaits_redecision
    settings.CATALOG_EMBEDDED_TASKS = "background"

    embedded.resume_unfinished()

    assert embedded.wait_idle(60)
    listing = Listing.objects.get()
    assert not listing.awaits_redecision and (listing.outcome, listing.category.path) == ("reviewed", "Fruit > Banana")


def test_the_embedded_mode_runs_the_periodic_tasks_beat_runs_beside_workers(make_item, listing, settings):
    # Beat runs only beside workers (bin/worker sweeper): here nothing else would draw the daily audit,
    # refit thresholds or compact the index's changes.
    from django.utils import timezone

    from catalog.models import Item, Outcome

    item = make_item("Fruit > Banana", 0.99, outcome=Outcome.ACCEPTED, accepted_depth=2,
                     predicted_path="Fruit > Banana")
    item.photo.finished = timezone.now()
    item.photo.save()
    settings.CATALOG_EMBEDDED_TASKS = "background"
    due = {}
    embedded.submit_due(0, due)
    assert embedded.wait_idle(60) and not Item.objects.get(pk=item.pk).audit  # nothing due at the start
    embedded.submit_due(embedded.FIRST_RUN_AFTER, due)  # soon after the start, then every its interval
    assert embedded.wait_idle(120)
    assert Item.objects.get(pk=item.pk).audit  # today's audit of Fruit, drawn
    interval = settings.CELERY_BEAT_SCHEDULE["draw-daily-audits"]["schedule"]
    assert due["draw-daily-audits"] == embedded.FIRST_RUN_AFTER + interval
