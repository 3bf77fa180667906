"""REST API of the targets part of sales (/api/v1/sales/...)."""


def register(router) -> None:
    """Add this part's viewsets to the project router."""
