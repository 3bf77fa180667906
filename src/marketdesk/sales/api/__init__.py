"""The sales REST API under /api/v1/sales/, one module per part."""

from . import opportunities, orders, products, receipts, targets


def register(router) -> None:
    for part in (products, opportunities, orders, receipts, targets):
        part.register(router)
