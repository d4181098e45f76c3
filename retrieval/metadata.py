"""Town, title and period proposed from a report's first lines, for the admin to confirm."""

from __future__ import annotations

import re

PLACE = re.compile(r"([\u4e00-\u9fff]{1,10}?(?:街道|镇|乡|经济开发区|经开区|开发区|高新区))")
# 「句容市茅山镇」: the county or province before the town's name is not part of it.
PREFIX = re.compile(r"^(?:[\u4e00-\u9fff]{2,4}?[省市县])+(?=[\u4e00-\u9fff]{2})")
YEAR = re.compile(r"(20\d{2})\s*年")
FIRST_LINES = 5


def propose(text: str) -> dict[str, str]:
    """{'town', 'title', 'period', 'aliases'} as far as the first lines tell; a caption overrides each."""
    lines = [re.sub(r"^#+\s*", "", l).strip() for l in text.splitlines() if l.strip()][:FIRST_LINES]
    head = "\n".join(lines)
    fields: dict[str, str] = {}
    if lines:
        fields["title"] = lines[0][:60]
    if place := PLACE.search(head):
        town = PREFIX.sub("", place.group(1))
        fields["town"] = town
        short = re.sub(r"(街道|镇|乡)$", "", town)
        if short != town and len(short) >= 2:
            fields["aliases"] = short
    if year := YEAR.search(head):
        fields["period"] = f"{year.group(1)}年"
    return fields
