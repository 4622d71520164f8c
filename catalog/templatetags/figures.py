"""Figures as the pages write them."""

from django import template

register = template.Library()


@register.filter
def percent(share, decimals=1):
    """A share (0..1) as a percentage to `decimals` places: whole percents would show an interval
    ending at 97.6 % as reaching a target of 98 %."""
    return "–" if share is None else f"{share * 100:.{int(decimals)}f}%"
