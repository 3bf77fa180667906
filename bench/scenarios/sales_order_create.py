"""Creating sales orders per second through the real order services, on SQLite or PostgreSQL.

As a salesperson of the generated organisation, for a customer they own: `order_create` (a
draft with 3 lines priced from the price lists, a number from the XS sequence, a rollup mark)
and `order_submit` (under the approval amount and the discount authority: confirmed at once,
coordination tasks, marks). Figures: drafts per second (order_create alone), drafts saved
then submitted (order_create + order_submit, two transactions), and orders saved and submitted
at once (order_create_submit: the form's "save and submit", one transaction) per second from
1 thread (`ORDERS` orders each); then, saved and submitted at once, from 4 threads with
the every-minute rollup job running beside them in a loop (the worst case for SQLite's single
writer), then from 2 and 4 processes (forked, each with its own connection, as a server's web
workers run); errors, of which 'database is locked' (must be 0), and the rollups checked against
the orders afterwards. Requirement: >= 100
orders/s on PostgreSQL and on SQLite. `--size` only sizes the organisation and customers
(order lines of the data set, default 200,000; the orders created here come on top)."""

from __future__ import annotations

import datetime
import threading
import time
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import OperationalError, connection
from django.utils import timezone

from bench.sales_generators import prepare
from bench.timing import Figure

DEFAULT_SIZE = 200_000
NEEDS_ORG = False
ORDERS = 200
THREADS = 4
PER_THREAD = 100
PROCESSES = (2, 4)  # as a server runs its web workers: one process each, own connection
PER_PROCESS = 150


def _sellers(count: int):
    """`count` salespeople of 销售 groups with a customer each that they own."""
    from marketdesk.crm.models import Customer
    from marketdesk.org.models import EmployeeStatus

    people = []
    seen = set()
    for customer in (
        Customer.objects.filter(
            owner__isnull=False,
            department__name__startswith="销售",
            owner__employee__status=EmployeeStatus.ACTIVE,
            owner__employee__roles__code="salesperson",
        )
        .select_related("owner")
        .order_by("pk")
    ):
        if customer.owner_id in seen:
            continue
        seen.add(customer.owner_id)
        people.append((customer.owner, customer))
        if len(people) == count:
            break
    return people


DRAFT, SAVE_THEN_SUBMIT, SAVE_AND_SUBMIT = "draft", "save_then_submit", "save_and_submit"


def _create(
    actor, customer, products, count: int, errors: list, locked: list, mode: str = SAVE_AND_SUBMIT
) -> int:
    """`count` orders of 3 lines: drafts (`order_create`), drafts then submitted
    (`order_create` + `order_submit`, two transactions: a saved draft submitted later), or
    saved and submitted at once (`order_create_submit`, the form's "save and submit" button and
    the API's `submit: true`)."""
    from marketdesk.sales.services import orders as order_services

    made = 0
    today = timezone.localdate()
    user = get_user_model().objects.get(pk=actor.pk)
    try:
        for index in range(count):
            lines = [
                {"product": products[(index + n) % len(products)], "quantity": Decimal(1 + n)}
                for n in range(3)
            ]
            fields = {
                "actor": user,
                "customer": customer,
                "lines": lines,
                "promised_date": today + datetime.timedelta(days=30),
            }
            try:
                if mode == SAVE_AND_SUBMIT:
                    done = order_services.order_create_submit(keep_draft=False, **fields)
                    if done.order.status != "confirmed":
                        raise RuntimeError(f"{done.order.number} is {done.order.status}")
                else:
                    order = order_services.order_create(**fields)
                    if mode == SAVE_THEN_SUBMIT:
                        order_services.order_submit(actor=user, order=order)
                made += 1
            except OperationalError as exc:
                (locked if "locked" in str(exc) else errors).append(exc)
            except Exception as exc:  # noqa: BLE001 (counted and reported)
                errors.append(exc)
    finally:
        connection.close()
    return made


def _process_worker(actor_pk, customer_pk, product_pks, count, start, results) -> None:
    """One server process: its own database connection, `count` orders created and submitted
    after the common start signal."""
    from marketdesk.crm.models import Customer
    from marketdesk.sales.models import Product

    connection.close()  # never share the parent's connection
    actor = get_user_model().objects.get(pk=actor_pk)
    customer = Customer.objects.get(pk=customer_pk)
    products = list(Product.objects.filter(pk__in=product_pks).order_by("pk"))
    errors, locked = [], []
    start.wait()
    made = _create(actor, customer, products, count, errors, locked)
    results.put((made, len(errors), len(locked), repr(errors[0]) if errors else ""))


def _processes(sellers, products, count: int, note):
    """Orders per second over `count` processes started together (fork)."""
    import multiprocessing

    from django.db import connections

    context = multiprocessing.get_context("fork")
    start, results = context.Event(), context.Queue()
    connections.close_all()
    workers = [
        context.Process(
            target=_process_worker,
            args=(actor.pk, customer.pk, [p.pk for p in products], PER_PROCESS, start, results),
        )
        for actor, customer in sellers[:count]
    ]
    for worker in workers:
        worker.start()
    time.sleep(1.0)  # let every process load its rows
    started = time.perf_counter()
    start.set()
    outcomes = [results.get() for _worker in workers]
    seconds = time.perf_counter() - started
    for worker in workers:
        worker.join()
    made = sum(o[0] for o in outcomes)
    errors = sum(o[1] for o in outcomes)
    locked = sum(o[2] for o in outcomes)
    for outcome in outcomes:
        if outcome[3]:
            note(f"{count} processes: first error {outcome[3]}")
            break
    return made / seconds, errors, locked


def run(*, org, size, note):
    from django.conf import settings

    from marketdesk.sales import rollups
    from marketdesk.sales.models import BOOKED, Product, SalesOrder, SalesRollup, SalesSettings

    # The services notify by e-mail; the console backend would time the terminal.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    eager = settings.CELERY_TASK_ALWAYS_EAGER
    note(
        "notifications: "
        + ("delivered in this process (no REDIS_URL)" if eager else "queued to the Celery broker")
    )
    prepare(size, note)
    SalesSettings.objects.get_or_create(pk=1)
    products = list(Product.objects.filter(code__startswith="B-").order_by("pk")[:6])
    sellers = _sellers(THREADS + 1)
    if len(sellers) < THREADS + 1:
        note("not enough salespeople with customers: generate a larger data set")
        return
    rollups.rollups_process()

    errors, locked = [], []
    actor, customer = sellers[0]
    for name, mode in (
        ("sales_order_create_draft_1_thread", DRAFT),
        ("sales_order_create_then_submit_1_thread", SAVE_THEN_SUBMIT),
        ("sales_order_create_1_thread", SAVE_AND_SUBMIT),
    ):
        started, cpu = time.perf_counter(), time.process_time()
        made = _create(actor, customer, products, ORDERS, errors, locked, mode=mode)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        if errors:
            note(f"{name}: {len(errors)} errors, first: {errors[0]!r}")
        yield Figure(name, made / seconds, "orders/s")
        # This process's CPU per order (SQLite's work included, PostgreSQL's server not): the
        # figure that other work on the machine does not skew.
        yield Figure(f"{name}_cpu_per_order", cpu * 1000 / max(made, 1), "ms")

    errors, locked, counts = [], [], []
    stop = threading.Event()

    def job():
        try:
            while not stop.wait(1.0):
                try:
                    rollups.rollups_process()
                except OperationalError as exc:
                    (locked if "locked" in str(exc) else errors).append(exc)
        finally:
            connection.close()

    def worker(actor, customer):
        counts.append(_create(actor, customer, products, PER_THREAD, errors, locked))

    runner = threading.Thread(target=job)
    threads = [threading.Thread(target=worker, args=seller) for seller in sellers[1 : THREADS + 1]]
    started = time.perf_counter()
    runner.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    stop.set()
    runner.join()
    if errors:
        note(f"{THREADS} threads: {len(errors)} errors, first: {errors[0]!r}")
    yield Figure(f"sales_order_create_{THREADS}_threads", sum(counts) / seconds, "orders/s")
    yield Figure("sales_order_create_errors", len(errors), "errors")
    yield Figure("sales_order_create_database_locked", len(locked), "errors")

    for count in PROCESSES:
        rate, failed, was_locked = _processes(sellers, products, count, note)
        yield Figure(f"sales_order_create_{count}_processes", rate, "orders/s")
        yield Figure(f"sales_order_create_{count}_processes_errors", failed, "errors")
        yield Figure(f"sales_order_create_{count}_processes_database_locked", was_locked, "errors")

    rollups.rollups_process()
    today = timezone.localdate()
    rolled = SalesRollup.objects.filter(year=today.year, month=today.month)
    direct = SalesOrder.objects.filter(
        status__in=BOOKED, order_date__year=today.year, order_date__month=today.month
    ).count()
    rolled_n = sum(rolled.values_list("order_count", flat=True))
    note(f"this month: {rolled_n} orders in the rollups, {direct} booked orders")
    if not eager:  # no worker ran: drop the queued deliveries
        from marketdesk.celery import app

        note(f"dropped {app.control.purge()} queued notification deliveries")
    yield Figure("sales_order_create_rollup_mismatches", 0 if rolled_n == direct else 1, "checks")
