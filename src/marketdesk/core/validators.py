"""China-specific checks, through the libraries made for them (phonenumbers, python-stdnum)."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError

MSG_MOBILE = _("Enter a valid mainland China mobile number (11 digits, e.g. 13812345678).")
MSG_ID_NUMBER = _(
    "Enter a valid resident ID card number (18 characters with a correct check digit)."
)
MSG_CREDIT_CODE = _(
    "Enter a valid unified social credit code (18 characters with a correct check digit)."
)


def normalise_mobile(value: str) -> str:
    """Return the 11-digit national form of a CN mobile, or raise ValidationError."""
    raw = (value or "").strip().replace(" ", "").replace("-", "")
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(MSG_MOBILE, code="mobile") from exc
    if (
        number.country_code != 86
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number)
        not in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        )
    ):
        raise ValidationError(MSG_MOBILE, code="mobile")
    return str(number.national_number)


def normalise_id_number(value: str) -> str:
    try:
        return ric.validate((value or "").strip().upper())
    except StdnumError as exc:
        raise ValidationError(MSG_ID_NUMBER, code="id_number") from exc


def normalise_credit_code(value: str) -> str:
    try:
        return uscc.validate((value or "").strip().upper())
    except StdnumError as exc:
        raise ValidationError(MSG_CREDIT_CODE, code="credit_code") from exc
