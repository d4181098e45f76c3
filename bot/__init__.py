"""townqa's front ends: the Telegram bot and the command line, both over ``retrieval``."""
