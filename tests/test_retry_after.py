"""Retry-After values are parsed and clamped to [1 s, 3 days]; garbage and non-finite are absent.

Issue 14, item 6 (its parsing half): ``0``/``0.001`` made one call resend in a tight loop,
``1000000000`` blocked every UID endpoint for 32 years, ``1e308`` escaped as ``OverflowError``.
"""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest
from hypothesis import given
from hypothesis import strategies as st

from binance_pm._retry_after import RETRY_AFTER_MAX_S, RETRY_AFTER_MIN_S, clamp_retry_after

NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z: HTTP-dates are measured from this instant
DAYS_3 = 3 * 86_400.0


def http_date(offset_s: float) -> str:
    return formatdate(NOW + offset_s, usegmt=True)


def test_documented_range() -> None:
    """The documented range: a 1 s floor, Binance's longest ban (3 days) on top."""
    assert (RETRY_AFTER_MIN_S, RETRY_AFTER_MAX_S) == (1.0, DAYS_3)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        # Binance's form: whole seconds, kept inside the range.
        ("1", 1.0),
        ("2", 2.0),
        ("59", 59.0),
        (" 30 ", 30.0),
        ("\t7\t", 7.0),
        ("1.5", 1.5),
        ("259200", DAYS_3),
        # Too small: a floor, not a tight resend loop.
        ("0", 1.0),
        ("0.001", 1.0),
        ("0.0", 1.0),
        ("00", 1.0),
        # Too large: at most 3 days, never years, never an OverflowError.
        ("259201", DAYS_3),
        ("1000000000", DAYS_3),
        ("1e308", DAYS_3),
        ("1E3", 1000.0),
        # Non-finite: absent.
        ("1e400", None),
        ("9" * 400, None),
        ("nan", None),
        ("NaN", None),
        ("inf", None),
        ("-inf", None),
        ("Infinity", None),
        # Negative or malformed numbers: absent.
        ("-3", None),
        ("-0", None),
        ("+5", None),
        (".5", None),
        ("5.", None),
        ("1_000", None),
        ("0x10", None),
        ("5s", None),
        ("1 2", None),
        ("\u0661\u0662", None),  # Arabic-Indic digits: float() takes them, HTTP does not
        # Absent or garbage.
        (None, None),
        ("", None),
        ("   ", None),
        ("abc", None),
        ("soon", None),
        # HTTP-dates, measured from NOW.
        (http_date(30), 30.0),
        (http_date(0), 1.0),
        (http_date(-3600), 1.0),  # already past: retry now, after the floor
        (http_date(365 * 86_400), DAYS_3),
        ("Sunday, 06-Nov-94 08:49:37 GMT", 1.0),  # RFC 850 form, long past
        ("Sun Nov  6 08:49:37 1994", 1.0),  # asctime form, long past
        ("Wed, 32 Oct 2015 07:28:00 GMT", None),  # no such day
        ("Wed, 21 Foo 2015 07:28:00 GMT", None),
        ("Mon", None),
    ],
)
def test_clamp_retry_after(header: str | None, seconds: float | None) -> None:
    """Each header value gives the documented delay, or None for the caller's default."""
    assert clamp_retry_after(header, now=NOW) == seconds


def test_http_date_uses_the_wall_clock_by_default() -> None:
    """Without ``now`` an HTTP-date is measured from time.time(): one a day ahead is ~86,400 s."""
    got = clamp_retry_after(formatdate(time.time() + 86_400, usegmt=True))
    assert got is not None and 86_390 <= got <= 86_400


@given(st.text(max_size=40))
def test_any_text_is_none_or_in_range(header: str) -> None:
    """No input raises; every answer is None or inside the range."""
    got = clamp_retry_after(header, now=NOW)
    assert got is None or RETRY_AFTER_MIN_S <= got <= RETRY_AFTER_MAX_S


@given(st.integers(min_value=0, max_value=10**30))
def test_whole_seconds_are_clamped_exactly(value: int) -> None:
    """Binance's integers: kept as they are inside the range, clamped to its ends outside it."""
    assert clamp_retry_after(str(value), now=NOW) == min(max(float(value), 1.0), DAYS_3)
