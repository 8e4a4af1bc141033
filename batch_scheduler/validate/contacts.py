"""Phone numbers and email addresses -> the API's forms (E.164, email_validator's normal form).

The libraries (phonenumbers, email_validator) are slow per value: each distinct value is
asked about once, after an exact fast path for the common shapes has answered the rest
(tests prove the fast paths agree with the libraries). A phone number Excel turned into a
number (the leading 0 lost, scientific notation) is caught as such, with what it probably
was. An address refused by email_validator says why in the library's words, which the
message gives in the current language (`reason_words`).
"""

from __future__ import annotations

import re
from functools import cache

import email_validator
import numpy as np
import pandas as pd
import phonenumbers

from batch_scheduler.i18n import DEFAULT_LANGUAGE, N_, _, current_language
from batch_scheduler.issues import phone_mangled
from batch_scheduler.validate.cells import (
    MISSING,
    NUMBER,
    TEXT,
    Parsed,
    as_text,
    cells,
    code_array,
    distinct_parts,
)

# ---------------------------------------------------------------- phones

_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:[.,]\d+)?e[+-]?\d+$", re.IGNORECASE)
_ONLY_DIGITS = re.compile(r"^[1-9]\d{5,14}$")  # no leading 0 or +: a number, turned into text
# "07700 900123", "07700900123", "+447700900123", "+44 7700 900123": only ever a GB mobile
_UK_MOBILE_SHAPE = re.compile(r"^(?:0|\+44 ?)(7\d{3}) ?(\d{6})$")


@cache
def _gb_mobile() -> re.Pattern[str]:
    """The GB mobile number pattern from phonenumbers' own metadata, so the fast path and the
    library can never disagree about which national numbers are mobiles."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("GB")
    assert metadata is not None and metadata.mobile is not None
    return re.compile(f"(?:{metadata.mobile.national_number_pattern})")


def fast_phone(text: str, region: str) -> str | None:
    """E.164 for the common UK mobile shapes the library would accept; None for anything else
    (those go to the library)."""
    shape = _UK_MOBILE_SHAPE.match(text)
    if shape is None or (region != "GB" and text.startswith("0")):
        return None
    national = shape[1] + shape[2]
    return "+44" + national if _gb_mobile().fullmatch(national) else None


def library_phone(text: str, region: str) -> str | None:
    """E.164 if phonenumbers says the number is valid, else None."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def likely_phone(number: float, region: str, *, digits_lost: bool) -> str | None:
    """What a number Excel mangled probably was, for the message: never used as a value."""
    if digits_lost or not float(number).is_integer() or number <= 0:
        return None
    digits = str(int(number))
    for candidate in ("0" + digits, "+" + digits):
        e164 = library_phone(candidate, region)
        if e164:
            parsed = phonenumbers.parse(e164)
            style = phonenumbers.PhoneNumberFormat
            home = parsed.country_code == phonenumbers.country_code_for_region(region)
            return phonenumbers.format_number(parsed, style.NATIONAL if home else style.E164)
    return None


def _mangled_text(text: str) -> tuple[float, bool]:
    """A scientific-notation text -> (its value, whether digits were lost)."""
    mantissa = text.lower().split("e")[0].replace(",", ".").lstrip("+-")
    value = float(text.replace(",", "."))
    significant = len(mantissa.replace(".", "").lstrip("0"))
    whole = len(str(int(value))) if value.is_integer() else significant + 1
    return value, significant < whole


@cache
def _writes_leading_zero(region: str) -> bool:
    """Whether national numbers in `region` start with 0 (GB: 020 7946 0123), so one written
    without it lost it on the way; not so where the national prefix is 1 or none (US)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return metadata is not None and metadata.national_prefix == "0"


def _phone_text(text: str, region: str) -> tuple[str | None, str | None, dict[str, str] | None]:
    """(E.164 or None, issue code or None, message values) for one trimmed text cell."""
    e164 = fast_phone(text, region)  # the common shapes never look scientific nor lack the 0
    if e164 is None and _SCIENTIFIC.match(text):
        value, lost = _mangled_text(text)
        likely = likely_phone(value, region, digits_lost=lost)
        return None, "phone-mangled", phone_mangled("scientific", likely)
    if e164 is None and _ONLY_DIGITS.match(text) and _writes_leading_zero(region):
        # 2079460123: a number cell somewhere upstream (Excel, a CSV export) dropped the 0 or
        # the +, exactly as in a number cell here, and is caught the same way
        likely = likely_phone(float(text), region, digits_lost=False)
        if likely:
            return None, "phone-mangled", phone_mangled("digits", likely)
    e164 = e164 or library_phone(text, region)
    return e164, None if e164 else "invalid-phone", None


def parse_phone(raw: pd.Series, region: str) -> Parsed:
    """Phone numbers -> E.164 (valid numbers only). Numbers Excel mangled -> phone-mangled,
    whether the cell is a number or text that was one (4.477009E+11, 2079460123)."""
    c = cells(raw)
    kind, n = c.kind.to_numpy(), len(raw)
    out = np.full(n, pd.NA, dtype=object)
    codes, details = np.full(n, None, dtype=object), np.full(n, None, dtype=object)
    at = np.flatnonzero(kind == TEXT)
    if at.size:
        texts = c.text.to_numpy()[at]
        e164, code, detail = distinct_parts(texts, lambda t: _phone_text(t, region))
        mangled = code == "phone-mangled"
        out[at[~mangled]] = e164[~mangled]  # None when not a valid number
        codes[at], details[at] = code, detail
    at = np.flatnonzero(kind == NUMBER)
    if at.size:
        numbers = c.raw.to_numpy()[at].tolist()
        codes[at] = "phone-mangled"
        details[at] = [
            phone_mangled("number", likely_phone(float(v), region, digits_lost=False))
            for v in numbers
        ]
    bad = (kind != MISSING) & pd.isna(out) & pd.isna(codes)
    codes[bad] = "invalid-phone"  # neither text nor a number: a date, a boolean...
    index = raw.index
    return Parsed(
        pd.Series(out, index=index, dtype=object),
        c.missing,
        pd.Series(codes, index=index, dtype=object),
        pd.Series(details, index=index, dtype=object),
    )


# ---------------------------------------------------------------- emails

_PLAIN_EMAIL = re.compile(
    r"^(?P<local>[A-Za-z0-9_+\-]+(?:\.[A-Za-z0-9_+\-]+)*)@"
    r"(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})$"
)
_SPECIAL_DOMAINS = tuple(email_validator.SPECIAL_USE_DOMAIN_NAMES)
_SPECIAL_SUFFIXES = tuple("." + name for name in _SPECIAL_DOMAINS)


def fast_email(text: str) -> str | None:
    """The normalised form of a plain ascii address the library would accept unchanged
    (apart from lower-casing the domain); None for anything else (that goes to the library)."""
    found = _PLAIN_EMAIL.match(text)
    if found is None or len(text) > 254 or len(found["local"]) > 64:
        return None
    domain = found["domain"].lower()
    if "--" in domain or len(domain) > 253:
        return None
    if domain in _SPECIAL_DOMAINS or domain.endswith(_SPECIAL_SUFFIXES):
        return None
    return f"{found['local']}@{domain}"


_ADDRESS = re.compile(r"^(?:the|an) email address ", re.IGNORECASE)
# email_validator's reasons, as library_email phrases them, that we can say in every language;
# ": {chars}" stands for the characters a reason lists.
_REASONS = frozenset(
    {
        N_("it must have an @-sign"),
        N_("there must be something before the @-sign"),
        N_("there must be something after the @-sign"),
        N_("it cannot have two periods in a row"),
        N_("it cannot start with a period"),
        N_("it cannot end with a period"),
        N_("it cannot end with a hyphen"),
        N_("it cannot have a period immediately before the @-sign"),
        N_("it cannot have a period immediately after the @-sign"),
        N_("it cannot have a hyphen immediately after the @-sign"),
        N_("it cannot have a period and a hyphen next to each other"),
        N_("the part after the @-sign is not valid. It should have a period"),
        N_("the part after the @-sign is not valid. It is not within a valid top-level domain"),
        N_(
            "the part after the @-sign is a special-use or reserved name that cannot be used "
            "with email"
        ),
        N_("it contains invalid characters before the @-sign: {chars}"),
        N_("the part after the @-sign contains invalid characters: {chars}"),
        N_("it contains unsafe characters: {chars}"),
    }
)


def library_email(text: str) -> tuple[str | None, str | None]:
    """(normalised address, None) if email_validator accepts it, else (None, its reason),
    phrased to follow "is not a valid email address: " ("it must have an @-sign")."""
    try:
        found = email_validator.validate_email(text, check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        reason = _ADDRESS.sub("it ", str(exc).rstrip("."))
        return None, reason[:1].lower() + reason[1:]
    return found.normalized, None


def reason_words(reason: str) -> str | None:
    """library_email's reason in the current language; None (the message's general reason)
    for one we have no words for, in a language other than the library's English."""
    head, _colon, chars = reason.partition(": ")
    listing = head + ": {chars}"
    if reason in _REASONS:
        return _(reason)
    if listing in _REASONS:
        return _(listing).format(chars=chars)
    return reason if current_language() == DEFAULT_LANGUAGE else None


def _email(text: str) -> tuple[str | None, dict[str, str] | None]:
    fast = fast_email(text)
    if fast:
        return fast, None
    address, reason = library_email(text)
    words = reason_words(reason) if reason else None
    return address, {"reason": words} if words else None


def parse_email(raw: pd.Series) -> Parsed:
    """Email addresses -> email_validator's normalised form (no network)."""
    text = as_text(raw)
    n = len(raw)
    out, details = np.full(n, pd.NA, dtype=object), np.full(n, None, dtype=object)
    present = ~text.missing.to_numpy()
    at = np.flatnonzero(present)
    if at.size:
        out[at], details[at] = distinct_parts(text.values.to_numpy()[at], _email)
    bad = present & pd.isna(out)
    index = raw.index
    return Parsed(
        pd.Series(out, index=index, dtype=object),
        text.missing,
        pd.Series(code_array(bad, "invalid-email"), index=index, dtype=object),
        pd.Series(details, index=index, dtype=object),
    )
