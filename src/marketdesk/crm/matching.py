"""Duplicate matching of customers: names normalised so that 华东智联科技有限公司,
"華東智聯科技（有限公司）" and "华东 智联科技" are the same name."""

from __future__ import annotations

import re
import unicodedata

from zhconv import convert

# Longest first, so 股份有限公司 is removed before 有限公司.
SUFFIXES = sorted(
    [
        "股份有限公司",
        "有限责任公司",
        "集团有限公司",
        "有限公司",
        "股份公司",
        "集团公司",
        "集团",  # so that "xx集团" and "xx集团有限公司" (which loses both parts) match
        "总公司",
        "分公司",
        "公司",
    ],
    key=len,
    reverse=True,
)
_DROP = re.compile(r"[\W_]+", re.UNICODE)  # spaces, punctuation (full and half width), symbols
# English legal forms count only as separate words at the end ("Apple Inc.", "ABC Co., Ltd."),
# never inside a word ("Tesco", "Disco").
_ENGLISH_FORMS = re.compile(
    r"(?:[\s,.&]+(?:co\.?,?\s*ltd|company\s+limited|limited|ltd|inc|corp(?:oration)?|co|llc|plc"
    r"|gmbh))+\.?\s*$"
)


def name_key(name: str) -> str:
    """The comparable form of a customer name (stored on the customer, indexed)."""
    text = unicodedata.normalize("NFKC", name or "")  # full-width -> half-width
    text = convert(text, "zh-hans").lower()  # traditional -> simplified
    stripped = _ENGLISH_FORMS.sub("", text)
    text = _DROP.sub("", stripped if _DROP.sub("", stripped) else text)
    for _ in range(2):  # "xx集团有限公司" and "xx(中国)有限公司" lose both parts
        for suffix in SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
                break
        for region in ("中国",):
            if text.endswith(region) and len(text) > len(region) + 1:
                text = text[: -len(region)]
    return text[:100]
