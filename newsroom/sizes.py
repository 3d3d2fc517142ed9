"""Sizes as people say them."""

from django.template.defaultfilters import filesizeformat


def size_in_words(size):
    """Django's filesizeformat without a whole number's ".0": "256 KB", "10 MB", "1.5 MB"
    (filesizeformat says "256.0 KB", which reads as a measurement, not a limit)."""
    return filesizeformat(size).replace(".0\xa0", "\xa0")
