"""Figures as the pages write them (catalog.text, where the worker's messages take them too)."""

from django import template

from catalog.text import percent

register = template.Library()
register.filter(percent)
