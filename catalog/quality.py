"""How well categorization does on this catalogue, as staff decisions measure it (the Quality page).

Every review decision says whether the model was right about an item: it was when the category
staff settled on is the path the model predicted, or a level of it (staff may settle on a parent),
and, for an item staff set aside as not in the catalogue or not a product, when the model itself
said "not in the catalogue". Staff review what the model could not accept first, so the accuracy
of reviewed items understates the accuracy of all of them; the auto-accepted ones are measured
among those staff happened to review, and the page says how many that is.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta
from statistics import median

from django.conf import settings
from django.db.models import F, Max
from django.db.models.functions import TruncWeek
from django.utils import timezone

from vision.catalogue import within

from .models import Item, Outcome, Photo, accepted_level_path, category_paths

WEEKS_SHOWN = 12
MOST_CORRECTED_SHOWN = 10
CORRECTED_TO_SHOWN = 3
SET_ASIDE = "Set aside: not in the catalogue, or not a product"
# The model's answers a person has to finish: all but those it accepted whole.
NEEDS_A_PERSON = (Outcome.NEEDS_REVIEW, Outcome.NOT_IN_CATALOGUE, Outcome.ACCEPTED_AT_PARENT)


@dataclass
class Judged:
    """One reviewed item: what the model said and what staff decided."""

    predicted: str  # the model's full predicted path ("" when it predicted none)
    decided: str  # the category staff settled on ("" when they set it aside)
    outcome: str  # what the model made of its answer (Outcome)
    accepted: str  # the level it accepted by itself ("" when none), as the tree is now
    week: object  # the Monday of the week of the latest decision

    @property
    def right(self):
        if not self.decided:
            return self.outcome == Outcome.NOT_IN_CATALOGUE
        return within(self.predicted, self.decided)

    @property
    def accepted_part_right(self):
        """Whether what the model accepted holds what staff decided."""
        return right_to(self.decided, self.accepted)


def right_to(decided, accepted):
    """Whether the category staff chose (`decided`, a path; empty when they set the item aside) is
    the path the model `accepted`, or under it."""
    return bool(decided) and within(decided, accepted)


def judged_items():
    """[Judged] for every categorized item staff have decided about."""
    rows = (Item.objects.filter(photo__status=Photo.Status.DONE).exclude(review=Item.Review.PENDING)
            .annotate(week=TruncWeek(Max("decisions__created")))
            .values_list("predicted_category__path", "predicted_path", "category__path", "outcome",
                         "decided_lineage", "accepted_depth", "week"))
    paths = category_paths()
    return [Judged(current or kept, decided or "", outcome, accepted_level_path(lineage, depth, current or kept, paths),
                   week.date() if week else None)
            for current, kept, decided, outcome, lineage, depth, week in rows]


def summary(judged):
    return {"reviewed": len(judged), "right": sum(j.right for j in judged), "accuracy": _share(judged)}


def accuracy_by_category(judged):
    """[{category, reviewed, right, accuracy}], the least accurate first: by the category staff
    decided, the set-aside items together."""
    groups = defaultdict(list)
    for item in judged:
        groups[item.decided or SET_ASIDE].append(item)
    rows = [{"category": name, "reviewed": len(items), "right": sum(i.right for i in items),
             "accuracy": _share(items), "set_aside": name == SET_ASIDE} for name, items in groups.items()]
    return sorted(rows, key=lambda row: (row["accuracy"], -row["reviewed"], row["category"]))


def accuracy_by_week(judged, today=None, weeks=WEEKS_SHOWN):
    """[{week, reviewed, accuracy}] of the weeks with decisions among the last `weeks`, the latest first."""
    today = today or timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    by_week = defaultdict(list)
    for item in judged:
        by_week[item.week].append(item)
    return [{"week": week, "reviewed": len(by_week[week]), "accuracy": _share(by_week[week])}
            for week in (monday - timedelta(weeks=n) for n in range(weeks)) if by_week[week]]


def auto_accept(judged):
    """How often the model accepted its answer by itself (the whole path, and a parent of it), and
    how precise that was among the items staff reviewed anyway."""
    items = Item.objects.filter(photo__status=Photo.Status.DONE)
    total = items.count()
    kinds = []
    # Right when staff's category is what was accepted or under it, as audits count (catalog.audits):
    # staff settling on a parent of an accepted leaf say the leaf was wrong.
    for label, outcome in (("The whole path", Outcome.ACCEPTED), ("A parent category", Outcome.ACCEPTED_AT_PARENT)):
        count = items.filter(outcome=outcome).count()
        reviewed = [j for j in judged if j.outcome == outcome]
        kinds.append({"label": label, "outcome": outcome.value, "count": count,
                      "rate": count / total if total else None, "reviewed": len(reviewed),
                      "precision": _share(reviewed, lambda j: j.accepted_part_right)})
    # Whether the index answering now is calibrated shows on the item it answered last.
    newest = items.order_by(F("photo__finished").desc(nulls_last=True), "-pk")
    return {"items": total, "target_precision": settings.CATALOG_AUTO_ACCEPT_PRECISION, "kinds": kinds,
            "uncalibrated": newest.values_list("calibrated", flat=True).first() is False}


def queue(now=None):
    """What waits for a person in the review queue: the audits staff have not labelled, then the
    answers the model did not accept whole, by its outcome (how many, and since when: upload times,
    the oldest and the median one). Answers it accepted whole wait for nobody (the queue lists them
    last; "Automatic acceptance" counts them). Each row's `query` opens the queue on those items."""
    now = now or timezone.now()
    waiting = Item.objects.filter(photo__status=Photo.Status.DONE, review=Item.Review.PENDING)
    answers = waiting.without_blind_audits()
    groups = [("Audits to label", "audit=only", waiting.filter(audit=True))]
    groups += [(outcome.label, f"outcome={outcome.value}", answers.filter(outcome=outcome))
               for outcome in Outcome.review_order() if outcome in NEEDS_A_PERSON]
    rows = []
    for label, query, items in groups:
        uploads = list(items.values_list("photo__created", flat=True))
        if uploads:
            rows.append({"label": label, "query": query, "size": len(uploads), "oldest": min(uploads),
                         "uploads": uploads})
    every = [uploaded for row in rows for uploaded in row.pop("uploads")]
    return {
        "size": len(every),
        "oldest": min(every, default=None),
        "median": now - median(now - uploaded for uploaded in every) if every else None,
        "rows": rows,
    }


def most_corrected(judged, count=MOST_CORRECTED_SHOWN):
    """[{category, corrected, reviewed, to: [(path, times)]}]: the predicted categories staff
    corrected most often, and what they corrected them to."""
    by_prediction = defaultdict(list)
    for item in judged:
        by_prediction[item.predicted].append(item)
    rows = []
    for predicted, items in by_prediction.items():
        wrong = [i for i in items if not i.right]
        if predicted and wrong:
            rows.append({"category": predicted, "corrected": len(wrong), "reviewed": len(items),
                         "to": Counter(i.decided or SET_ASIDE for i in wrong).most_common(CORRECTED_TO_SHOWN)})
    return sorted(rows, key=lambda row: (-row["corrected"], row["category"]))[:count]


def _share(items, test=lambda item: item.right):
    return sum(1 for item in items if test(item)) / len(items) if items else None
