"""Pages of the products part of sales."""

urlpatterns: list = []
