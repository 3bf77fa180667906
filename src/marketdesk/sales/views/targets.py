"""Pages of the targets part of sales."""

urlpatterns: list = []
