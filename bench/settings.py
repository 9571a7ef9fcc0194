"""Threshold's own settings plus the benchmark's baseline views (bench/urls.py).

Selected only by `python -m bench` (DJANGO_SETTINGS_MODULE=bench.settings); production
code and its URLs are untouched.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
