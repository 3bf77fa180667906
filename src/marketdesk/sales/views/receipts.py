"""Pages of the receipts part of sales."""

urlpatterns: list = []
