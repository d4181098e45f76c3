"""Button callback data, written and parsed in one place (at most 64 bytes each).

`m:<query>:<next rank>` more results, `c:<query>:<rank>` context, `f:<query>:<1|-1>` feedback,
`y:<query>:<year>` the question asked again for a year its town's report covers,
`ingest:<add|remove|cancel>:<token>` an admin's confirmation of an upload or a removal.
Each kind has its own pattern, so PTB routes it to its own handler; anything else is expired or forged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MORE, CONTEXT, FEEDBACK, YEAR, CONFIRM = "m", "c", "f", "y", "ingest"
_ID, _RANK = r"[0-9]{1,12}", r"[0-9]{1,6}"
PATTERNS = {
    MORE: re.compile(rf"^{MORE}:({_ID}):({_RANK})\Z"),
    CONTEXT: re.compile(rf"^{CONTEXT}:({_ID}):({_RANK})\Z"),
    FEEDBACK: re.compile(rf"^{FEEDBACK}:({_ID}):(1|-1)\Z"),
    YEAR: re.compile(rf"^{YEAR}:({_ID}):((?:19|20)[0-9]{{2}})\Z"),
    CONFIRM: re.compile(rf"^{CONFIRM}:(add|remove|cancel):([0-9a-f]{{16}})\Z"),
}


@dataclass(frozen=True)
class Button:
    query_id: int  # the logged question the button belongs to
    arg: int  # next rank (more), rank (context), the vote (feedback) or the year


def data(kind: str, query_id: int, arg: int) -> str:
    return f"{kind}:{query_id}:{arg}"


def parse(kind: str, value: str | None) -> Button | None:
    """The button of this kind, or None when the data is not one."""
    match = PATTERNS[kind].fullmatch(value or "")
    return Button(int(match.group(1)), int(match.group(2))) if match else None


def confirm_data(action: str, token: str) -> str:
    return f"{CONFIRM}:{action}:{token}"


def parse_confirm(value: str | None) -> tuple[str, str] | None:
    """(action, token) of a confirmation button, or None."""
    match = PATTERNS[CONFIRM].fullmatch(value or "")
    return (match.group(1), match.group(2)) if match else None
