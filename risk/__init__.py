"""Credit-guarantee risk for the IP exchange: pre-trade controls, reservations, FX and models.

The core consults :class:`RiskEngine` before it accepts an order and feeds it every event
after; operators drive it with the commands in :mod:`risk.messages`, which
:func:`load_setup` / :func:`demo_setup` build from TOML. Pricing models live in
:mod:`risk.pricing`; :mod:`risk.model_prices` turns their output into commands.
"""

from risk.config import bootstrap, demo_setup, load_setup
from risk.engine import RiskEngine
from risk.invariants import RiskInvariantError
from risk.messages import RiskCommand, RiskEvent

__all__ = [
    "RiskCommand",
    "RiskEngine",
    "RiskEvent",
    "RiskInvariantError",
    "bootstrap",
    "demo_setup",
    "load_setup",
]
