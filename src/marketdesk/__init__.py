"""MarketDesk: the web system a company's marketing department runs on."""

from .celery import app as celery_app

__all__ = ["celery_app"]
