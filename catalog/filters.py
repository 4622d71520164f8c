"""The lists' filters, as django-filter filter sets: the API's listings and categories (through
its DjangoFilterBackend, which drf-spectacular documents) and the review queue's form."""

import datetime

import django_filters as filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.forms.utils import ErrorDict, ErrorList
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field

from .forms import CategoryPathField, CategorySearchField
from .models import PATH_SEPARATOR, REFERENCE_LIMIT, Category, Item, ListingStatus, Outcome

# The review status of every item staff have decided about, whichever way (what the Quality page
# counts as reviewed).
DECIDED = "decided"
# The review queue's "Categories under it" choice that keeps only the categories found themselves.
LEFT_OUT = "left_out"
# Confidence bands of the review queue's filter: [low, high).
CONFIDENCE_BANDS = {"low": (0.0, 0.5), "medium": (0.5, 0.8), "high": (0.8, 0.95), "certain": (0.95, 1.01)}


class StrictFilterSet(filters.FilterSet):
    """An API list's query: a parameter it does not know, or one given empty, is a field error
    rather than quietly ignored (a typo would otherwise return everything)."""

    OTHER_PARAMETERS = {"page"}

    def is_valid(self):
        return super().is_valid() and not self._query_errors()

    @property
    def errors(self):
        return ErrorDict({**self.form.errors, **self._query_errors()})

    def _query_errors(self):
        known = ", ".join([*self.filters, *sorted(self.OTHER_PARAMETERS)])
        errors = {name: f"There is no such parameter here; there are {known}."
                  for name in self.data if name not in self.filters and name not in self.OTHER_PARAMETERS}
        errors.update({name: "An empty value filters nothing; leave the parameter out."
                       for name, value in self.data.items()
                       if name in self.filters and not getattr(self.filters[name], "may_be_empty", False)
                       and not str(value).strip()})
        return {name: ErrorList([ValidationError(message, code="invalid")]) for name, message in errors.items()}


class MomentField(IsoDateTimeField):
    """An ISO 8601 time the database can compare: one whose UTC time falls outside years 1 to 9999
    (9999-12-31T23:59:59-05:00) is a field error, not a server error."""

    def clean(self, value):
        moment = super().clean(value)
        try:
            return moment and moment.astimezone(datetime.timezone.utc)
        except OverflowError as error:
            raise ValidationError("This time is out of range: its UTC time must fall within the years 1 to 9999.",
                                  code="invalid") from error


class MomentFilter(filters.IsoDateTimeFilter):
    field_class = MomentField


class CategoryPathFilter(filters.Filter):
    field_class = CategoryPathField  # a category's whole path, as the pages take it


class CategorySearchFilter(filters.CharFilter):
    field_class = CategorySearchField  # any part of a path


def text(kind, max_length, help_text, may_be_empty=False, **options):
    """A filter of text up to `max_length` characters, and not empty unless `may_be_empty`: the
    schema says what is refused."""
    schema = {"type": "string", "minLength": 0 if may_be_empty else 1, "maxLength": max_length,
              "description": help_text}
    made = kind(max_length=max_length, help_text=help_text, **options)
    made.may_be_empty = may_be_empty
    return extend_schema_field(schema)(made)


class ListingFilter(StrictFilterSet):
    reference = text(filters.CharFilter, REFERENCE_LIMIT, "the listing with this reference of yours (exactly)")
    status = filters.ChoiceFilter(choices=ListingStatus.choices)
    category = text(CategoryPathFilter, 2000, method="in_subtree", help_text=(
        "a category's whole path (Fruit > Apple): listings whose category, or one of whose items, is in "
        "its subtree"))
    created_after = filters.DateFilter(field_name="created", lookup_expr="date__gte",
                                       help_text="listings created on this day or later")
    created_before = filters.DateFilter(field_name="created", lookup_expr="date__lte",
                                        help_text="listings created on this day or earlier")
    updated_after = MomentFilter(field_name="decided", lookup_expr="gt", help_text=(
        "listings whose category was decided after this time (ISO 8601), by the model, catalogue staff or "
        "you: poll with the time of your last poll to learn of changed categories (a category renamed or "
        "moved in the tree is no new decision: its listings' paths change with it)"))

    def in_subtree(self, listings, name, category):
        subtree = category.subtree()
        return listings.filter(Q(category__in=subtree) | Q(photos__items__category__in=subtree)).distinct()


class ChildrenFilter(filters.CharFilter):
    """The children of a category path; given empty, the top level (django-filter would skip it)."""

    def filter(self, categories, value):
        if self.field_name not in self.parent.data:
            return categories
        path = (value or "").strip()
        return categories.filter(parent__path=path) if path else categories.filter(parent=None)


class CategoryFilter(StrictFilterSet):
    search = text(filters.CharFilter, 200, "part of a category name", field_name="name", lookup_expr="icontains")
    parent = text(ChildrenFilter, 2000, "only the children of this path; empty: the top level", may_be_empty=True)


class ReviewFilter(filters.FilterSet):
    """The review queue's filters (a form on its page, each empty one meaning "any")."""

    category = CategorySearchFilter(label="In category", max_length=2000, method="in_category")
    predicted = CategorySearchFilter(label="Model's best guess", max_length=2000, method="guessed")
    below = filters.ChoiceFilter(label="Categories under it", empty_label="Included", method="read_by_category_filters",
                                 choices=[(LEFT_OUT, "Left out")])
    review = filters.ChoiceFilter(label="Status", empty_label="Any", method="in_review",
                                  choices=[*Item.Review.choices, (DECIDED, "Decided by staff, any way")])
    audit = filters.ChoiceFilter(label="Audits", empty_label="Any", method="audits",
                                 choices=[("only", "Audits only"), ("none", "No audits")])
    outcome = filters.ChoiceFilter(label="Model's answer", empty_label="Any", method="with_outcome", choices=[
        (o.value, o.label) for o in Outcome if o not in (Outcome.REVIEWED, Outcome.NOT_A_PRODUCT,
                                                         Outcome.CHOSEN_BY_SELLER)])
    band = filters.ChoiceFilter(label="Confidence of its category", empty_label="Any", method="in_band", choices=[
        ("low", "Under 50 %"), ("medium", "50–80 %"), ("high", "80–95 %"), ("certain", "95 % and over")])
    seller = filters.CharFilter(field_name="photo__listing__seller__username", lookup_expr="iexact", max_length=150,
                                label="Seller")
    since = filters.DateFilter(field_name="photo__created", lookup_expr="date__gte", label="Uploaded from",
                               widget=forms.DateInput(attrs={"type": "date"}))
    until = filters.DateFilter(field_name="photo__created", lookup_expr="date__lte", label="Uploaded until",
                               widget=forms.DateInput(attrs={"type": "date"}))

    # The filters by what the model said leave waiting audits out (ItemQuerySet.without_blind_audits).
    READ_THE_MODELS_ANSWER = ("category", "predicted", "outcome", "band")

    @property
    def leaves_audits_out(self):
        """Whether a filter that reads the model's answer is set, so that waiting audits are left out."""
        return self.is_valid() and any(self.form.cleaned_data.get(name) for name in self.READ_THE_MODELS_ANSWER)

    def in_category(self, items, name, text):
        found = matching_categories(text, self.form.cleaned_data.get("below") != LEFT_OUT)
        return items.without_blind_audits().filter(category__in=found)

    def guessed(self, items, name, text):
        found = matching_categories(text, self.form.cleaned_data.get("below") != LEFT_OUT)
        return items.without_blind_audits().filter(predicted_category__in=found)

    def with_outcome(self, items, name, outcome):
        return items.without_blind_audits().filter(outcome=outcome)

    def read_by_category_filters(self, items, name, value):
        return items  # "Categories under it" is read by the category filters

    def in_review(self, items, name, value):
        return items.exclude(review=Item.Review.PENDING) if value == DECIDED else items.filter(review=value)

    def audits(self, items, name, value):
        return items.filter(audit=value == "only")

    def in_band(self, items, name, band):
        low, high = CONFIDENCE_BANDS[band]
        return items.without_blind_audits().filter(confidence__gte=low, confidence__lt=high)


def matching_categories(text, under=True):
    """The categories the review queue's "In category" finds for `text`: a whole path as the pages
    write it (the Quality page's links, the suggestions), or of several levels in any case, that
    category; else every category whose path holds the text, in any case ("apple" finds Fruit >
    Apple, also where a top-level Apple exists). With `under`, the categories under those too;
    without, only the highest of them (the Quality page's rows, one category each, open the queue
    so: its "Fruit" opened Dried fruit and Citrus > Grapefruit too)."""
    exact = Category.objects.filter(path=text)
    if exact.exists():
        return Category.objects.filter(Q(path=text) | Q(path__startswith=text + PATH_SEPARATOR)) if under else exact
    exact = Category.objects.filter(path__iexact=text)
    if PATH_SEPARATOR.strip() in text and exact.exists():
        return (Category.objects.filter(Q(path__iexact=text) | Q(path__istartswith=text + PATH_SEPARATOR))
                if under else exact)
    found = Category.objects.filter(path__icontains=text)
    return found if under else found.exclude(parent__path__icontains=text)
