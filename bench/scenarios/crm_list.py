"""CRM customer list: first and deep page, scoped and filtered (placeholder while developing)."""

from __future__ import annotations

from bench.crm_generators import prepare

DEFAULT_SIZE = 1_000_000
NEEDS_ORG = False


def run(*, org, size, note):
    org, customers = prepare(size, note)
    return iter(())
