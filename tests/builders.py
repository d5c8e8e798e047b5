"""The one place tests build unified events and dead letters: ``make_payment_event(**overrides)``.

Each event gets a fresh unique id unless one is given, so a test against real servers never
meets another's rows. The builders are ``orchestration.testing``'s (the orchestration bench
uses them too) until phase 2 of issue 20 moves them here; import them from this module.
"""

from __future__ import annotations

from orchestration.testing import make_dead_letter, make_failed_event, make_payment_event

__all__ = ["make_dead_letter", "make_failed_event", "make_payment_event"]
