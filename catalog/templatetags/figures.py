"""Figures as the pages write them."""

import math

from django import template

register = template.Library()

ROUNDINGS = {"nearest": round, "down": math.floor}


@register.filter
def percent(share, rounded="nearest"):
    """A share (0..1) as a percentage to a tenth: whole percents would show an interval ending at
    97.6 % as reaching a target of 98 %. An interval's ends are rounded "down", so that each
    compares with a target (a tenth of a percent at most) as the exact one does: an end of 97.96 %,
    below 98 %, shows as 97.9 %, not 98.0 %."""
    if share is None:
        return "–"
    # Rounded to a millionth first: 0.158 is 158.00000000000003 tenths of a percent, not 159.
    return f"{ROUNDINGS[rounded](round(share * 1000, 6)) / 10:.1f}%"
