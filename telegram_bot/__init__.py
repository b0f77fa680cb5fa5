"""Telegram bot: an HTTP client of the API server (never imports api/)."""
