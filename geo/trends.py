"""Monthly counts for trend charts: a period's months, counts per month and group, and the same months of a
baseline year, so a chart can set this period against its baseline month by month.

Months are calendar months of Vietnam local time (the stored ``occurred_at`` is local), the partial first and
last months of a period included as they are (the chart labels say which days they hold).
"""
from __future__ import annotations

from datetime import date

import pandas as pd


def months_between(start: date, end: date) -> list[tuple[int, int]]:
    """``(year, month)`` of every calendar month touched by ``[start, end]``, in order."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def monthly_counts(occurred_at, groups, months: list[tuple[int, int]]) -> dict[str, list[int]]:
    """Counts per ``group`` and month of ``months`` (a row outside them is not counted).

    Parameters
    ----------
    occurred_at : array_like of datetime
    groups : array_like of str
        The group of each row (a category, a category group); same length as ``occurred_at``.
    months : list of (year, month)

    Returns
    -------
    dict
        group → counts aligned with ``months``; groups in order of first appearance.
    """
    stamps = pd.to_datetime(pd.Series(occurred_at), errors="coerce")
    keys = pd.Series(list(groups), dtype=object)
    if len(stamps) != len(keys):
        raise ValueError(f"occurred_at has {len(stamps)} rows but groups has {len(keys)}")
    position = {m: i for i, m in enumerate(months)}
    index = [position.get((s.year, s.month)) if pd.notna(s) else None for s in stamps]
    out: dict[str, list[int]] = {}
    for group, slot in zip(keys, index):
        if slot is None:
            continue
        out.setdefault(str(group), [0] * len(months))[slot] += 1
    return out


def shift_months(months: list[tuple[int, int]], years: int) -> list[tuple[int, int]]:
    """The same months ``years`` earlier (negative) or later: the baseline's months of a period."""
    return [(year + years, month) for year, month in months]
