"""The outcome names of vision.outcomes, for the Django app (which reaches vision only through here)."""

from vision.outcomes import ACCEPTED, ACCEPTED_AT_PARENT, NEEDS_REVIEW, NOT_IN_CATALOGUE, OUTCOMES

__all__ = ["ACCEPTED", "ACCEPTED_AT_PARENT", "NEEDS_REVIEW", "NOT_IN_CATALOGUE", "OUTCOMES"]
