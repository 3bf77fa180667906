"""REST API of the orders part of sales (/api/v1/sales/...)."""


def register(router) -> None:
    """Add this part's viewsets to the project router."""
