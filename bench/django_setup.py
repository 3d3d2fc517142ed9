"""Import first in the benchmark's in-process tools: Django set up with the bench settings."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()
