"""Shared guards of the parsers: the typed error they raise, JSON decoding that cannot escape
with an untyped error, range checks for numbers bound for the tables, short values for
problem messages.
"""

from __future__ import annotations

import json
import math
from typing import Any

# Bounds of the tables' Int64 columns.
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
# Digits of the widest integer a count or index may have (int64 has 19).
MAX_INT_DIGITS = 19


class ParseError(ValueError):
    """Input a parser cannot read; the message says why, never repeats the input."""


def load_json(data: bytes | str, error: type[ValueError] = ParseError) -> Any:
    """Decode a JSON document; `error` (a ValueError subclass) if it cannot be decoded.

    Besides malformed text this covers nesting too deep for the decoder and integers too
    long for Python to convert, which `json.loads` reports as RecursionError / ValueError.
    """
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise error(f"not valid JSON: {e}") from None
    except RecursionError:
        raise error("not readable JSON: nested too deeply") from None
    except ValueError as e:  # e.g. an integer literal of more than 4,300 digits
        raise error(f"not readable JSON: {str(e).split(';')[0]}") from None


def finite(value: Any) -> float | None:
    """`value` as a finite float (ints, floats), else None; never raises."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        x = float(value)
    except OverflowError:
        return None
    return x if math.isfinite(x) else None


def int64(value: int | None) -> int | None:
    """`value` if it fits the tables' Int64 columns, else None."""
    if value is None or not INT64_MIN <= value <= INT64_MAX:
        return None
    return value


def small_int(digits: str) -> int | None:
    """A decimal digit string as an int if it has at most `MAX_INT_DIGITS` digits, else None."""
    s = digits.strip()
    if not s or len(s) > MAX_INT_DIGITS:
        return None
    try:
        return int(s)
    except ValueError:
        return None


def brief(value: Any, limit: int = 80) -> str:
    """`repr(value)` for a message, cut to about `limit` characters."""
    try:
        r = repr(value)
    except (RecursionError, ValueError):
        return f"<{type(value).__name__}>"
    return r if len(r) <= limit else r[: limit - 3] + "..."


def clip(text: str, limit: int = 96) -> str:
    """`text` for a message: itself if at most `limit` characters, else its start and end
    around "...", `limit` characters in all."""
    if len(text) <= limit:
        return text
    tail = (limit - 3) // 3
    return f"{text[: limit - 3 - tail]}...{text[len(text) - tail :]}"


def reason(exc: BaseException, limit: int = 200) -> str:
    """A short reason for a problem message: the message of a typed parse error or an
    OSError, else only the exception's type (an untyped error may quote the input)."""
    if isinstance(exc, ParseError):
        msg = str(exc)
        return msg if len(msg) <= limit else msg[: limit - 3] + "..."
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    if isinstance(exc, RecursionError):
        return "nested too deeply (RecursionError)"
    return f"cannot be read ({type(exc).__name__})"
