"""Customers made through the CRM services (never raw ORM writes), and a frozen clock."""

from __future__ import annotations

import contextlib
import datetime
import itertools
from unittest import mock

import factory
from django.contrib.auth import get_user_model

from marketdesk.crm import services
from marketdesk.crm.models import Customer

_serial = itertools.count(1)


class CustomerFactory(factory.Factory):
    """CustomerFactory(actor=..., owner=..., **fields): customer_create does the writing."""

    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"测试客户{n:04d}号工厂")
    level = "B"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.customer_create(**kwargs)


def make_customer_factory():
    def make(owner=None, *, actor=None, at: datetime.datetime | None = None, **fields) -> Customer:
        if actor is None:
            actor = owner or get_user_model().objects.get(username="manager")
        fields.setdefault("name", f"测试客户{next(_serial):04d}号工厂")
        with frozen(at) if at else contextlib.nullcontext():
            return CustomerFactory(actor=actor, owner=owner, to_pool=owner is None, **fields)

    return make


@contextlib.contextmanager
def frozen(moment: datetime.datetime):
    """timezone.now() returns `moment` inside the block (services read the clock there)."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield moment


def fresh(customer: Customer) -> Customer:
    return Customer.objects.get(pk=customer.pk)
