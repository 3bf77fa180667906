"""Money in pages: two places and thousands separators."""

from decimal import Decimal

from marketdesk.core.templatetags.md import amount


def test_it_groups_thousands_with_two_places():
    assert amount(Decimal("12000")) == "12,000.00"
    assert amount("68000.5") == "68,000.50"
    assert amount(None) == ""
    assert amount("n/a") == "n/a"
