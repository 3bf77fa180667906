"""Celery application. With no REDIS_URL, tasks run in-process (see settings)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketdesk.settings")

app = Celery("marketdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
