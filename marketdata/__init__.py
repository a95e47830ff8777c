"""The price-discovery feed: publisher, snapshots, subscriber library and analyst tools.

Modules: :mod:`~marketdata.messages` (wire types), :mod:`~marketdata.publisher` (the server's
event sink), :mod:`~marketdata.snapshot` (Clone-pattern answers), :mod:`~marketdata.bars`
(OHLCV and daily statistics), :mod:`~marketdata.client` and :mod:`~marketdata.localbook`
(the subscriber side), :mod:`~marketdata.ticker`, :mod:`~marketdata.chart` and
:mod:`~marketdata.cli` (``ipx feed`` and ``ipx chart``).
"""

from marketdata.client import FeedClient, GapDetected, Synced
from marketdata.localbook import InstrumentView, LocalBook
from marketdata.publisher import MarketDataPublisher

__all__ = [
    "FeedClient",
    "GapDetected",
    "InstrumentView",
    "LocalBook",
    "MarketDataPublisher",
    "Synced",
]
