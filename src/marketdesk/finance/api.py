"""REST API of the finance app."""


def register(router) -> None:
    pass
