"""History iterators: one ordered stream of rows from Binance's windowed, paged history calls.

Both walks cut ``[start, end]`` into windows Binance accepts. Adjacent windows share their boundary
millisecond (``[a, b]``, ``[b, c]``), so a row stamped exactly on a boundary is fetched whatever
Binance's inclusive/exclusive convention is, and is yielded once: rows already seen on the boundary
are skipped. Each window is read completely, then its rows are yielded oldest first, so the order
of Binance's answer (the docs' examples are newest first) does not matter.

- Repay history pages with ``current``/``size`` inside windows of at most 360 days.
- Interest history has no page parameter. Inside a window, a full answer (``size`` rows) means
  more rows exist: the walk narrows the range past the rows it has, using ``interestAccruedTime``:
  forward from the newest row if Binance answered oldest first, backward from the oldest row if it
  answered newest first (the order is unconfirmed for PM Pro; the retail PM docs say newest first).
  The boundary instant is asked again and its rows de-duplicated by (asset, time). Windows are 30
  days: the retail PM endpoint caps its range there, and shorter windows are valid either way.

Every request goes through the session, so the weight limiter paces the walk.

A server that ignores the range or the page number would make either walk ask the same question
for ever (the whole IP budget, nothing yielded). So every further request must make progress: an
interest page must narrow the range, a repay page must bring a row not seen in this window;
otherwise the walk ends with :class:`InvalidResponseError` after at most one wasted request.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Hashable, Iterator
from datetime import datetime
from typing import TypeVar

from ._encoding import format_value
from ._errors import InvalidResponseError
from ._models import InterestRecord, RepayHistoryPage, RepayRecord

__all__ = [
    "INTEREST_WINDOW_MS",
    "REPAY_WINDOW_MS",
    "iter_interest_history",
    "iter_repay_history",
    "windows",
]

DAY_MS = 86_400_000
REPAY_WINDOW_MS = 360 * DAY_MS
INTEREST_WINDOW_MS = 30 * DAY_MS

R = TypeVar("R")

FetchRepayPage = Callable[[int, int, int, int], Awaitable[RepayHistoryPage]]  # start, end, page, size
FetchInterest = Callable[[int, int, int], Awaitable[tuple[InterestRecord, ...]]]  # start, end, size


def to_ms(moment: datetime) -> int:
    return int(format_value(moment))


def windows(start_ms: int, end_ms: int, span_ms: int) -> Iterator[tuple[int, int]]:
    """``[start, end]`` as consecutive windows of at most ``span_ms``, sharing boundary instants."""
    if span_ms <= 0:
        raise ValueError("span_ms must be positive")
    lo = start_ms
    while True:
        hi = min(lo + span_ms, end_ms)
        yield lo, hi
        if hi >= end_ms:
            return
        lo = hi


def _repay_key(row: RepayRecord) -> Hashable:
    # Repayments carry no id; asset, amount and instant together identify one.
    return (row.asset, row.amount, row.repay_time)


def _interest_key(row: InterestRecord) -> Hashable:
    return (row.asset, row.interest_accrued_time)  # one accrual per asset per instant


def _emit(
    rows: list[R], key: Callable[[R], Hashable], when: Callable[[R], datetime],
    carried: set[Hashable], window_end: int,
) -> tuple[list[R], set[Hashable]]:
    """Rows oldest first without repeats, and the keys seen on the window's end instant."""
    seen = set(carried)
    out: list[R] = []
    for row in sorted(rows, key=when):  # stable: Binance's order within one instant is kept
        k = key(row)
        if k not in seen:
            seen.add(k)
            out.append(row)
    return out, {key(r) for r in out if to_ms(when(r)) == window_end}


async def iter_repay_history(
    fetch: FetchRepayPage, start_ms: int, end_ms: int, *, size: int, span_ms: int = REPAY_WINDOW_MS
) -> AsyncGenerator[RepayRecord, None]:
    """Every repayment in ``[start_ms, end_ms]``, oldest first."""
    carried: set[Hashable] = set()
    for lo, hi in windows(start_ms, end_ms, span_ms):
        rows: list[RepayRecord] = []
        seen: set[Hashable] = set()
        current = 1
        while True:
            page = await fetch(lo, hi, current, size)
            rows.extend(page.rows)
            fresh = {_repay_key(r) for r in page.rows} - seen
            if page.rows and not fresh:  # page ``current`` repeats earlier ones: ignored paging
                raise InvalidResponseError(
                    f"repay_history: page {current} of [{lo}, {hi}] holds only rows already "
                    "read; the server ignored the page number, stopping"
                )
            seen |= fresh
            if len(page.rows) < size or current * size >= page.total:
                break
            current += 1
        out, carried = _emit(rows, _repay_key, lambda r: r.repay_time, carried, hi)
        for row in out:
            yield row


async def iter_interest_history(
    fetch: FetchInterest, start_ms: int, end_ms: int, *, size: int,
    span_ms: int = INTEREST_WINDOW_MS,
) -> AsyncGenerator[InterestRecord, None]:
    """Every interest record in ``[start_ms, end_ms]``, oldest first."""
    carried: set[Hashable] = set()
    for lo, hi in windows(start_ms, end_ms, span_ms):
        rows: list[InterestRecord] = []
        a, b = lo, hi
        while True:
            page = await fetch(a, b, size)
            rows.extend(page)
            if len(page) < size:
                break
            na, nb = _narrow(page, a, b)
            # Each request must ask for a strictly smaller part of the last range, or the same
            # full page comes back for ever (a server or proxy that ignores the time range).
            if not a <= na <= nb <= b or (na, nb) == (a, b):
                raise InvalidResponseError(
                    f"interest_history: a full page for [{a}, {b}] leaves [{na}, {nb}] to read; "
                    "the server ignored the time range, stopping"
                )
            a, b = na, nb
        out, carried = _emit(rows, _interest_key, lambda r: r.interest_accrued_time, carried, hi)
        for row in out:
            yield row


def _narrow(page: tuple[InterestRecord, ...], a: int, b: int) -> tuple[int, int]:
    """The range still to read after a full page, keeping the page's boundary instant."""
    times = [to_ms(r.interest_accrued_time) for r in page]
    if min(times) == max(times):
        raise RuntimeError(
            f"interest_history: more than {len(page)} rows share one instant; "
            "pass asset= to narrow the walk"
        )
    if times == sorted(times):
        return times[-1], b  # oldest first: continue from the newest row seen
    if times == sorted(times, reverse=True):
        return a, times[-1]  # newest first: continue back from the oldest row seen
    # Unordered and truncated: nothing tells which rows were left out.
    raise InvalidResponseError("interest_history: a full page is not in time order; cannot page")
