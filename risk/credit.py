"""Credit: participants' lines, the guarantors behind them, positions and what they use.

Public types: :class:`Guarantor`, :class:`Account`, :class:`Position`, :class:`Ledger`.

A position (one participant in one instrument) uses credit in the instrument's currency:

    usage = reserved (open orders' needs) + max(0, net payable) + margin on the position

``net`` is the unsettled cash of its fills (buys and fees add, sale proceeds less fees
subtract), netted per instrument as delivery-versus-payment settlement nets it; a receivable
never offsets another instrument. A participant's line usage is the sum over currencies of its
positions' usage, each currency converted once, rounded up with the FX haircut. A guarantor
backing a line with ``share_bp`` carries that share of the line's usage: it is kept exactly,
in ten-thousandths of a minor unit (``used_bp``), so no rounding can drift; it is shown
rounded up. All of these are kept incrementally (O(1) per change) and can be rebuilt from the
positions, which is what an FX change does and what :meth:`Ledger.totals` recomputes for the
invariant check.

A guarantor's usage is carried lazily: a line's moves are folded into its guarantors only
when the line leaves its *guards*, a range of its own usage inside which none of its
guarantors can reach a band edge or its capacity whatever the other lines do within theirs
(each guarantor shares its room to the nearest edge among its lines). So a change inside the
guards touches the line alone, and ``used_bp`` (the settled part plus the lines' unfolded
moves) is exact whenever it is read. Settling costs O(lines of the guarantor); far from every
edge it never happens, near one the rooms shrink and it happens on most of those lines' changes.
A guarantor past its capacity (where it may stay for long) is carried eagerly instead: each of
its lines is pinned where it is, so its every change is folded at once, at the cost of that
line's own guarantors only.
"""

from __future__ import annotations

from typing import Final

from mypy_extensions import mypyc_attr

from engine.instruments import InstrumentKind
from risk.alerts import HIGHEST, LOWEST, Alerts, Watched, thresholds
from risk.fx import FxTable
from risk.limits import AssetLimits, Limits
from risk.messages import BASE_CURRENCY, GuarantorKind, LimitScope
from risk.reservations import Terms, margin_part

FULL: Final = 10_000


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class Guarantor(Watched):
    """A bank, guarantee company or insurer and the share of lines' usage it carries."""

    __slots__ = (
        "capacity",
        "capacity_bp",
        "currency",
        "eager",
        "guarantor",
        "kind",
        "lines",
        "name",
        "settled_bp",
    )

    def __init__(self, guarantor: str) -> None:
        super().__init__()
        self.guarantor = guarantor
        self.name = ""
        self.kind = GuarantorKind.BANK
        self.currency = BASE_CURRENCY
        self.capacity = self.capacity_bp = 0
        self.settled_bp = 0
        """``used_bp`` less the lines' moves not folded in yet."""
        self.lines: dict[str, tuple[Account, int]] = {}
        """The lines it backs: participant -> (account, share_bp), in the order set."""
        self.eager = False
        """Past capacity: its lines are pinned, every move folded at once (none unfolded)."""

    @property
    def used_bp(self) -> int:
        """Sum of share_bp x line usage over the lines it backs (exact)."""
        if self.eager:
            return self.settled_bp
        return self.settled_bp + sum(
            share * (account.used - account.base) for account, share in self.lines.values()
        )

    @property
    def used(self) -> int:
        return -(-self.used_bp // FULL)

    @property
    def participants(self) -> list[str]:
        return sorted(self.lines)

    def settle(self) -> int:
        """Fold the moves of every line it backs into all of their guarantors; return its
        usage, now settled."""
        for account, _ in self.lines.values():
            account.fold()
        return self.settled_bp

    def state(self) -> tuple:
        return (
            self.guarantor,
            self.name,
            str(self.kind),
            self.currency,
            self.capacity,
            self.used_bp,
            self.level,
            self.participants,
        )


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class Account(Watched):
    """One participant: its credit line, order controls, permissions and positions."""

    __slots__ = (
        "backers",
        "base",
        "bounds",
        "ceiling",
        "converted",
        "currency",
        "foreign",
        "killed",
        "kinds",
        "limit",
        "limits",
        "lower",
        "participant",
        "positions",
        "upper",
        "used",
    )

    def __init__(self, participant: str) -> None:
        super().__init__()
        self.participant = participant
        self.currency = BASE_CURRENCY
        self.limit = 0
        self.backers: tuple[tuple[Guarantor, int], ...] = ()
        self.used = 0
        self.foreign: dict[str, int] = {}
        """Positions' usage in each currency other than the line's, in that currency."""
        self.converted: dict[str, int] = {}
        """``foreign`` converted to the line's currency, as counted in ``used``."""
        self.positions: dict[str, Position] = {}
        self.kinds: frozenset[InstrumentKind] = frozenset()
        self.limits = Limits()
        self.killed = False
        self.base = 0
        """``used`` when last folded into the guarantors."""
        self.bounds: dict[str, tuple[int, int]] = {}
        """Per guarantor: the usage range [low, high] its share of the guarantor's room allows."""
        self.lower, self.upper = LOWEST, 1
        """The guards: a change leaving ``used`` in [lower, upper) moves no level anywhere."""
        self.ceiling = 0
        """Usage an order may take the line to without a credit or guarantor limit (0..limit)."""

    def fold(self) -> None:
        """Fold the line's moves since it was last folded into all of its guarantors."""
        moved = self.used - self.base
        if moved:
            self.base = self.used
            for guarantor, share in self.backers:
                guarantor.settled_bp += share * moved

    def pin(self, guarantor: str) -> None:
        """Allow the line no move unsettled as far as ``guarantor`` is concerned."""
        self.bounds[guarantor] = (self.used, LOWEST)
        self.guard()

    def guard(self) -> None:
        """Recompute the guards from the line's band, limit and guarantors' bounds."""
        low = max((bound[0] for bound in self.bounds.values()), default=LOWEST)
        high = min((bound[1] for bound in self.bounds.values()), default=HIGHEST)
        self.lower = max(self.low, low)
        self.upper = min(self.high, high + 1)
        self.ceiling = min(self.limit, high)

    def state(self) -> tuple:
        return (
            self.participant,
            self.currency,
            self.limit,
            [(g.guarantor, share) for g, share in self.backers],
            self.used,
            sorted(self.foreign.items()),
            sorted(self.converted.items()),
            sorted(str(k) for k in self.kinds),
            self.limits.state(),
            self.killed,
            self.level,
            [self.positions[i].state() for i in sorted(self.positions)],
        )


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class Position:
    """One participant in one instrument: holding or contracts, working orders, obligations.

    ``plain`` says the position needs no conversion (its currency is the line's) and counts
    against no asset cap: the common case, which takes the short path.
    """

    __slots__ = (
        "account",
        "cny",
        "net",
        "plain",
        "qty",
        "reserved",
        "terms",
        "usage",
        "working_buy",
        "working_sell",
    )

    def __init__(self, account: Account, terms: Terms) -> None:
        self.account = account
        self.terms = terms
        self.qty = 0
        """Units held (fully paid rights) or signed contracts (derivatives)."""
        self.working_buy = 0
        self.working_sell = 0
        self.reserved = 0
        self.net = 0
        self.usage = 0
        self.cny = 0
        """``usage`` in CNY as counted against asset caps (capped instruments only)."""
        self.plain = terms.currency == account.currency and not terms.limited

    def expected_usage(self) -> int:
        net = self.net
        return self.reserved + (net if net > 0 else 0) + margin_part(self.terms, self.qty)

    def state(self) -> tuple:
        return (
            self.terms.instrument_id,
            self.qty,
            self.working_buy,
            self.working_sell,
            self.reserved,
            self.net,
            self.usage,
            self.cny,
        )


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class Ledger:
    """Accounts, guarantors and the usage arithmetic that ties them to positions."""

    def __init__(self, fx: FxTable, alerts: Alerts) -> None:
        self.fx = fx
        self.alerts = alerts
        self.assets = AssetLimits(alerts)
        self.accounts: dict[str, Account] = {}
        self.guarantors: dict[str, Guarantor] = {}

    def account(self, participant: str) -> Account:
        account = self.accounts.get(participant)
        if account is None:
            account = self.accounts[participant] = Account(participant)
        return account

    def position(self, account: Account, terms: Terms) -> Position:
        pos = account.positions.get(terms.instrument_id)
        return self.file(Position(account, terms)) if pos is None else pos

    def file(self, pos: Position) -> Position:
        """Add a new position to its account and instrument."""
        pos.account.positions[pos.terms.instrument_id] = pos
        pos.terms.positions.append(pos)
        return pos

    # -- the hot path -------------------------------------------------------------------

    def charge(self, pos: Position, delta: int) -> None:
        """Add ``delta`` to a position's usage and carry it to its line, the guarantors
        behind the line and the capped assets; note the alerts a crossing implies."""
        pos.usage += delta
        account = pos.account
        if not pos.plain:
            delta = self._convert(pos, delta)
            if not delta:
                return
        used = account.used = account.used + delta
        if used >= account.upper if delta > 0 else used < account.lower:
            self._crossed(account)

    def _crossed(self, account: Account) -> None:
        """The line left its guards: move whatever changed level (the line first, then its
        guarantors in order); a guarantor whose share of room the line left is settled and
        shares its room out again (the others cannot have moved a level)."""
        used = account.used
        if not account.low <= used < account.high:
            self._line_level(account)
        for guarantor, _ in account.backers:
            low, high = account.bounds[guarantor.guarantor]
            if low <= used <= high:
                continue
            if guarantor.eager:  # its other lines are folded already
                account.fold()
                used_bp = guarantor.settled_bp
            else:
                used_bp = guarantor.settle()
            if not guarantor.low <= used_bp < guarantor.high:
                self._guarantor_level(guarantor)
            self._allocate(guarantor, account)

    def _allocate(self, guarantor: Guarantor, moved: Account | None = None) -> None:
        """Share a settled guarantor's room among its lines, in line usage: each line may
        fall by its part of the way to the band's lower edge and rise by its part of the way
        to the nearer of the upper edge and the capacity. Past capacity, pin the lines
        instead (only ``moved`` if they are pinned already): no line may rise, nor pass an
        order, without the exact check."""
        used_bp = guarantor.settled_bp
        up = min(guarantor.high - 1, guarantor.capacity_bp) - used_bp
        name = guarantor.guarantor
        if up < 0:
            if guarantor.eager and moved is not None:
                moved.pin(name)
                return
            guarantor.eager = True
            for account, _ in guarantor.lines.values():
                account.pin(name)
            return
        guarantor.eager = False
        down = used_bp - guarantor.low
        n = len(guarantor.lines)
        for account, share in guarantor.lines.values():
            part = n * share
            used = account.used
            account.bounds[name] = (used - down // part, used + up // part)
            account.guard()

    def _line_level(self, account: Account) -> None:
        """Move the line to the level of its usage; note an alert if the level changed."""
        changed = account.set_level(account.used)
        account.guard()
        if changed:
            self.alerts.emit(
                LimitScope.CREDIT_LINE,
                account.participant,
                account.currency,
                account.used,
                account.limit,
                account.level,
            )

    def _guarantor_level(self, guarantor: Guarantor) -> None:
        """Move the guarantor to the level of its usage; note an alert if the level changed."""
        if guarantor.set_level(guarantor.used_bp):
            self.alerts.emit(
                LimitScope.GUARANTOR,
                guarantor.guarantor,
                guarantor.currency,
                guarantor.used,
                guarantor.capacity,
                guarantor.level,
            )

    def _convert(self, pos: Position, delta: int) -> int:
        """The long path: count the asset caps, return the change in line currency."""
        account = pos.account
        terms = pos.terms
        currency = terms.currency
        if terms.limited:
            cny = self.fx.convert(pos.usage, currency, BASE_CURRENCY)
            self.assets.add(account.participant, terms.limited, cny - pos.cny)
            pos.cny = cny
        if currency == account.currency:
            return delta
        total = account.foreign.get(currency, 0) + delta
        account.foreign[currency] = total
        converted = self.fx.convert(total, currency, account.currency)
        change = converted - account.converted.get(currency, 0)
        account.converted[currency] = converted
        return change

    def line_change(self, account: Account, currency: str, need: int) -> int:
        """How much ``need`` more usage in ``currency`` adds to the line's usage."""
        if currency == account.currency:
            return need
        before = account.converted.get(currency, 0)
        total = account.foreign.get(currency, 0) + need
        return self.fx.convert(total, currency, account.currency) - before

    # -- settings that move many numbers at once ----------------------------------------

    def rebuild(self) -> None:
        """Recount every derived total from the positions (after FX, caps, lines, limits or
        the alert threshold change), then note the alerts the new numbers imply."""
        bp = self.alerts.alert_bp
        line, foreign, converted, backed, by_participant, market, cny = self.totals()
        for participant in sorted(self.accounts):
            account = self.accounts[participant]
            account.foreign = foreign[participant]
            account.converted = converted[participant]
            account.used = account.base = line[participant]
            account.bounds = {}
            account.warn_at, account.full_at = thresholds(account.limit, bp)
            for pos in account.positions.values():
                pos.plain = pos.terms.currency == account.currency and not pos.terms.limited
            self._line_level(account)
        for name in sorted(self.guarantors):
            g = self.guarantors[name]
            g.settled_bp = backed[name]
            g.warn_at, g.full_at = (t * FULL for t in thresholds(g.capacity, bp))
            self._guarantor_level(g)
            self._allocate(g)
        for pos, value in cny:
            pos.cny = value
        assets = self.assets
        assets.by_participant, assets.market = by_participant, market
        assets.realert()

    def totals(self) -> tuple:
        """Every derived total recomputed from positions, FX and lines (no state changes)."""
        fx = self.fx
        line: dict[str, int] = {}
        foreign: dict[str, dict[str, int]] = {}
        converted: dict[str, dict[str, int]] = {}
        backed = dict.fromkeys(self.guarantors, 0)
        by_participant: dict[tuple[str, str], int] = {}
        market: dict[str, int] = {}
        cny: list[tuple[Position, int]] = []
        for participant, account in self.accounts.items():
            native = 0
            per_currency: dict[str, int] = {}
            for pos in account.positions.values():
                currency = pos.terms.currency
                if currency == account.currency:
                    native += pos.usage
                else:
                    per_currency[currency] = per_currency.get(currency, 0) + pos.usage
                if pos.terms.limited:
                    value = fx.convert(pos.usage, currency, BASE_CURRENCY)
                    cny.append((pos, value))
                    for asset, _, _ in pos.terms.limited:
                        key = (participant, asset)
                        by_participant[key] = by_participant.get(key, 0) + value
                        market[asset] = market.get(asset, 0) + value
            conv = {c: fx.convert(v, c, account.currency) for c, v in per_currency.items()}
            foreign[participant], converted[participant] = per_currency, conv
            used = line[participant] = native + sum(conv.values())
            for guarantor, share in account.backers:
                backed[guarantor.guarantor] += share * used
        return line, foreign, converted, backed, by_participant, market, cny
