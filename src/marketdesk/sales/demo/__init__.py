"""The sales demo: products and prices, opportunities, orders through delivery, receipts,
targets. Each part registers its own step (orders 50 to 54)."""

from . import opportunities, orders, products, receipts, targets  # noqa: F401
