"""REST API of the crm app."""


def register(router) -> None:
    pass
