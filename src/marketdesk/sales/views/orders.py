"""Pages of the orders part of sales."""

urlpatterns: list = []
