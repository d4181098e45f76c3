"""Town, title and year proposed from a report's first lines."""

from __future__ import annotations

import pytest

from retrieval.metadata import propose


@pytest.mark.parametrize(
    ("first_lines", "town", "aliases", "period"),
    [
        ("茅山镇2024年政府工作报告\n正文。", "茅山镇", "茅山", "2024年"),
        ("江苏省句容市宝华镇2024年政府工作报告", "宝华镇", "宝华", "2024年"),
        ("黄梅街道工作总结\n2023年以来，……", "黄梅街道", "黄梅", "2023年"),
        ("# 镇江经开区2024年工作", "镇江经开区", None, "2024年"),
    ],
)
def test_first_lines_name_the_town_and_year(first_lines: str, town: str, aliases: str | None, period: str):
    fields = propose(first_lines)
    assert fields["town"] == town and fields.get("aliases") == aliases and fields["period"] == period
    assert fields["title"] == first_lines.splitlines()[0].lstrip("# ")


def test_nothing_proposed_when_the_lines_do_not_say():
    assert "town" not in propose("关于做好今年工作的几点意见\n正文。")
