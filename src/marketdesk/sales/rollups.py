"""Dashboard rollups: which cells a change touches. Writers (order and receipt services) call
`mark_order` / `mark_receipt` inside their transaction, before and after the change (an order
may move to another month or person); the rollup job recomputes the marked cells from the
source rows. Processing the queue and rebuilding live in services/targets.py."""

from __future__ import annotations

from .models import RollupDirty


def mark(*, day, department_id, owner_id) -> None:
    if day is None or owner_id is None:
        return
    RollupDirty.objects.create(
        year=day.year, month=day.month, department_id=department_id or 0, owner_id=owner_id
    )


def mark_order(order) -> None:
    """Mark the cell of an order as it is now (call before and after changing it)."""
    mark(day=order.order_date, department_id=order.department_id, owner_id=order.owner_id)
    if order.delivered_on:
        mark(day=order.delivered_on, department_id=order.department_id, owner_id=order.owner_id)


def mark_receipt(receipt) -> None:
    mark(day=receipt.received_on, department_id=receipt.department_id, owner_id=receipt.owner_id)
