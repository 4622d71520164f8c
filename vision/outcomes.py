"""What happens to an answer, as stored with items and listings (plain names: the web process
imports this without loading any model)."""

ACCEPTED = "accepted"  # the whole path reached the target precision: no review needed
ACCEPTED_AT_PARENT = "accepted_at_parent"  # the path down to a parent did; the rest needs review
NEEDS_REVIEW = "needs_review"
NOT_IN_CATALOGUE = "not_in_catalogue"  # unlike every reference: no category is given

OUTCOMES = (ACCEPTED, ACCEPTED_AT_PARENT, NEEDS_REVIEW, NOT_IN_CATALOGUE)
