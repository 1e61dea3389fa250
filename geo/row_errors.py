"""Refused rows of an import grouped by reason, so a file with 200,000 bad rows reads as a few lines.

A clerk fixing a file needs to know *what* is wrong and *where to look*: "197,267 rows: category 'X' is not
a known offence name — rows 2, 7, 9, … (first 20)" says both, where 197,267 lines say neither. The full
per-row list stays available (the import page's CSV download, ``import-incidents --error-report``).

Grouping rule: errors of the same field whose reasons agree once the row-specific detail is set aside —
numbers (distances, row numbers) and anything after a colon (the nearest commune, the closest names).
For fields whose values come from a vocabulary (category, severity, case status, sensitive) each distinct
value is its own group, because each misspelt name needs its own fix.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from translations import message

#: Fields whose refused values are names from a list: grouped per value.
VALUE_GROUPED_FIELDS = frozenset({"category", "severity", "case_status", "sensitive"})
#: Row numbers shown per group.
SHOWN_ROWS = 20

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass(frozen=True)
class ErrorGroup:
    """Errors sharing a field and a reason.

    Attributes
    ----------
    field : str
    value : str or None
        The refused value when the group is one value (vocabulary fields, or all rows had the same value).
    reason : str
        The reason, as the first error of the group gives it when the group's reasons differ in detail.
    same_reason : bool
        Whether every error of the group has exactly this reason.
    rows : tuple of int
        The rows of the group, ascending: all of them, or the first ones when ``count`` says how many there are.
    count : int
        Rows in the group when ``rows`` holds only the first ones (a stored report); 0 means ``len(rows)``.
    """

    field: str
    value: str | None
    reason: str
    same_reason: bool
    rows: tuple
    count: int = 0
    #: The reason as a :class:`translations.Message` (the group's first error's), when the error had one.
    message: object = field(default=None, compare=False)

    def reason_in(self, lang: str) -> str:
        """The reason worded in ``lang`` (the stored English ``reason`` for errors without a message)."""
        return self.message.text(lang) if self.message is not None else self.reason

    @property
    def n_rows(self) -> int:
        return self.count or len(self.rows)

    @property
    def shown_rows(self) -> tuple:
        return self.rows[:SHOWN_ROWS]

    def line(self, lang: str = "en") -> str:
        """``197,267 rows: category 'X': not a known offence name … — rows 2, 7, 9, … (first 20)``, worded in
        ``lang`` (the catalogs' ``geo.row_errors.*``)."""
        subject = f"{self.field} {self.value!r}" if self.value is not None else self.field
        reason = self.reason_in(lang)
        if not self.same_reason:
            reason = message("geo.row_errors.and_similar", reason=reason).text(lang)
        rows = ", ".join(str(r) for r in self.shown_rows)
        more = message("geo.row_errors.first_rows", n=SHOWN_ROWS).text(lang) if self.n_rows > SHOWN_ROWS else ""
        key = "geo.row_errors.line_one" if self.n_rows == 1 else "geo.row_errors.line_many"
        return message(key, n=self.n_rows, subject=subject, reason=reason, rows=rows, more=more).text(lang)


def _reason_kind(reason: str) -> str:
    head = reason.split(": ", 1)[0]
    return _NUMBER.sub("#", head)


def group_row_errors(errors) -> list[ErrorGroup]:
    """Group :class:`geo.incidents.RowError` records by field and kind of reason, largest group first.

    Parameters
    ----------
    errors : iterable of RowError
        Anything with ``row``, ``field``, ``value`` and ``reason``.

    Returns
    -------
    list of ErrorGroup
        Ordered by number of rows (descending), then by first row.
    """
    groups: dict = {}
    for error in errors:
        value_key = error.value if error.field in VALUE_GROUPED_FIELDS else None
        key = (error.field, value_key, _reason_kind(error.reason))
        entry = groups.get(key)
        if entry is None:
            groups[key] = entry = {"reason": error.reason, "same": True, "rows": [], "values": {error.value},
                                   "message": getattr(error, "message", None)}
        elif entry["same"] and error.reason != entry["reason"]:
            entry["same"] = False
        if len(entry["values"]) < 2:
            entry["values"].add(error.value)
        entry["rows"].append(error.row)
    out = []
    for (field_name, value_key, _), entry in groups.items():
        rows = tuple(sorted(set(entry["rows"])))
        value = value_key if value_key is not None else (
            next(iter(entry["values"])) if len(entry["values"]) == 1 else None)
        if value == "":
            value = None
        out.append(ErrorGroup(field=field_name, value=value, reason=entry["reason"], same_reason=entry["same"],
                              rows=rows, message=entry["message"]))
    out.sort(key=lambda g: (-g.n_rows, g.rows[0] if g.rows else 0))
    return out


__all__ = ["ErrorGroup", "SHOWN_ROWS", "VALUE_GROUPED_FIELDS", "group_row_errors"]
