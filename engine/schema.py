"""The whole wire schema: engine and risk commands and events in one union each.

The gateway decodes client and admin messages with :data:`ExchangeCommand`, and the journal
and the feed use :data:`ExchangeEvent`; the core itself only dispatches on the type.
"""

from __future__ import annotations

from engine.messages import AnyCommand, AnyEvent
from risk.messages import RiskCommand, RiskEvent

ExchangeCommand = AnyCommand | RiskCommand
ExchangeEvent = AnyEvent | RiskEvent
