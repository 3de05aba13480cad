"""Telegram: the application (`app`), its handlers, delivery that survives network faults, and
the per-user flood gate."""
