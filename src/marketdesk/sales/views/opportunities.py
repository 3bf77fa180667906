"""Pages of the opportunities part of sales."""

urlpatterns: list = []
