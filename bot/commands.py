"""The commands a user may use and the admins' own: one list for Telegram's command menu and for /help."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

log = logging.getLogger(__name__)

USER = (
    BotCommand("start", "这个机器人能做什么"),
    BotCommand("help", "怎么提问"),
    BotCommand("ask", "提问：/ask 问题"),
    BotCommand("towns", "收录了哪些镇的报告"),
    BotCommand("reset", "忘记之前的话题，重新开始"),
)
ADMIN = (
    BotCommand("stats", "统计图：每天的提问、有答案的比例、👍/👎"),
    BotCommand("recent", "最近的提问：/recent 10"),
    BotCommand("unanswered", "没有答案或 👎 的提问"),
    BotCommand("export", "查询日志导出为 CSV：/export 2026-11-01"),
    BotCommand("reports", "收录的报告文件"),
    BotCommand("remove", "移除一份报告：/remove 文件名"),
    BotCommand("reload", "重新加载报告"),
)


def for_user(admin: bool) -> tuple[BotCommand, ...]:
    return USER + ADMIN if admin else USER


async def set_admin_menu(bot: Bot, admin_id: int) -> bool:
    """The admins' menu in their private chat. Telegram refuses it until the admin has talked to the bot:
    that is a warning, and the menu comes with the admin's next /start."""
    try:
        await bot.set_my_commands(for_user(True), scope=BotCommandScopeChat(admin_id))
    except TelegramError as exc:
        log.warning("admin %s: command menu not set (%s); it is set when they send /start", admin_id, exc)
        return False
    return True


async def set_menus(bot: Bot, admin_ids: list[int]) -> None:
    """Everyone's menu, then each admin's."""
    await bot.set_my_commands(USER)
    for admin_id in admin_ids:
        await set_admin_menu(bot, admin_id)
