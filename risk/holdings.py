"""Who may sell what: holdings for secondary sales, the exclusivity registry for primary ones.

Public types: :class:`Grant`, :class:`GrantRegistry`; function :func:`sell_reason`.

A right cannot be sold twice. A seller other than the issuer must hold, unencumbered by its
other working sells, what it offers (no naked sale of a right). The issuer (the licensor) sells
without a holding, since a primary sale creates the units, but it may not grant over an
exclusive grant it already made: the registry keeps every exclusive grant, registered by
command or made by a trade, and a licence whose territory x field of use x term overlaps one
held by someone else cannot be granted. A right that exists once (assignment, exclusive or sole
licence) can be sold by its issuer at most one lot in total.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import msgspec
from mypy_extensions import mypyc_attr

from engine.codes import Reason
from engine.instruments import Instrument
from risk.reservations import Terms

OK: Final = Reason.NONE
WORLD: Final = "WORLD"
ALL_FIELDS: Final = frozenset({"all fields", "*"})


class Grant(msgspec.Struct, frozen=True, array_like=True):
    """An exclusive grant over one IP asset: who holds it, where, in which field, how long.

    ``instrument`` names the listed licence it came from ("" when registered off-exchange).
    """

    asset_id: str
    holder: str
    territory: tuple[str, ...]
    field_of_use: str
    term_start: dt.date
    term_end: dt.date
    instrument: str = ""

    def overlaps(self, i: Instrument) -> bool:
        """Same territory (WORLD meets every one), same field (or all fields), terms meet."""
        mine, theirs = self.territory, i.territory
        territory = WORLD in mine or WORLD in theirs or not set(mine).isdisjoint(theirs)
        field = (
            self.field_of_use == i.field_of_use
            or self.field_of_use.lower() in ALL_FIELDS
            or i.field_of_use.lower() in ALL_FIELDS
        )
        term = self.term_start <= i.term_end and i.term_start <= self.term_end
        return territory and field and term


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class GrantRegistry:
    """Exclusive grants by IP asset, in the order they were made (deterministic)."""

    def __init__(self) -> None:
        self.by_asset: dict[str, list[Grant]] = {}

    def add(self, grant: Grant) -> None:
        self.by_asset.setdefault(grant.asset_id, []).append(grant)

    def conflicts(self, instrument: Instrument, grantor: str) -> bool:
        """Would granting ``instrument`` overlap an exclusive grant someone else holds?"""
        for asset in instrument.ip_asset_ids:
            for grant in self.by_asset.get(asset, ()):
                if grant.holder != grantor and grant.overlaps(instrument):
                    return True
        return False

    def transfer(self, instrument: Instrument, seller: str, buyer: str, primary: bool) -> None:
        """A trade in an exclusive licence: a primary sale grants it to the buyer on every
        asset; a resale moves the seller's grants from that instrument to the buyer."""
        i = instrument
        for asset in i.ip_asset_ids:
            grants = self.by_asset.setdefault(asset, [])
            if primary:
                grants.append(
                    Grant(
                        asset,
                        buyer,
                        i.territory,
                        i.field_of_use,
                        i.term_start,
                        i.term_end,
                        i.instrument_id,
                    )
                )
                continue
            for n, grant in enumerate(grants):
                if grant.instrument == i.instrument_id and grant.holder == seller:
                    grants[n] = msgspec.structs.replace(grant, holder=buyer)

    def state(self) -> list:
        return [(asset, self.by_asset[asset]) for asset in sorted(self.by_asset)]


def sell_reason(
    terms: Terms, registry: GrantRegistry, seller: str, held: int, working: int, extra: int
) -> Reason:
    """NO_HOLDING or EXCLUSIVITY_CONFLICT for offering ``extra`` more units of a fully paid
    right, given the seller's holding ``held`` and the quantity its working sells already
    offer (which encumbers the holding, or counts against a single-grant issue)."""
    if seller != terms.issuer:
        return Reason.NO_HOLDING if held - working < extra else OK
    if terms.single_grant and terms.issued + working + extra > terms.instrument.lot_size:
        return Reason.EXCLUSIVITY_CONFLICT
    if terms.licence and registry.conflicts(terms.instrument, seller):
        return Reason.EXCLUSIVITY_CONFLICT
    return OK
