"""Property: the lines' guards (lazy guarantor usage, the credit ceiling) change no outcome.

The same random stream runs against two markets: one as built, and one whose lines are given
no room at all, so every usage change settles the guarantors and checks every band edge, and
every order takes the full credit check. Both must report the same events (rejects, alerts and
all) and end in the same state. The lines share two guarantors with tight capacities, moved
now and then (below their usage too), so guarantor alerts, GUARANTOR_LIMIT rejects and
guarantors past capacity happen.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.codes import Reason
from risk.credit import Account, Guarantor, Ledger
from risk.engine import RiskEngine
from risk.messages import Backer, GuarantorKind, SetCreditLine, SetGuarantor
from tests.risk.test_reservations_property import _apply, ops
from tests.risk.test_risk_engine_support import Market, market, reason

INSURER = GuarantorKind.INSURER


def _shared_guarantors(m: Market) -> Market:
    """A and B split between the bank and an insurer, C on the insurer alone."""
    setup = [
        SetGuarantor("INSURER", "insurer", INSURER, "CNY", 8_000),
        SetCreditLine("A", "CNY", 20_000, (Backer("BANK", 6_000), Backer("INSURER", 4_000))),
        SetCreditLine("B", "CNY", 20_000, (Backer("INSURER", 2_500), Backer("BANK", 7_500))),
        SetCreditLine("C", "CNY", 20_000, (Backer("INSURER"),)),
    ]
    for cmd in setup:
        assert reason(m.apply(cmd)) == Reason.NONE, cmd
    return m


class UnguardedLedger(Ledger):
    """Gives no line any room: every line of a settled guarantor leaves its guards on any
    change and fails every ceiling."""

    def _allocate(self, guarantor: Guarantor, moved: Account | None = None) -> None:
        for account, _ in guarantor.lines.values():
            account.bounds[guarantor.guarantor] = (account.used, account.used - 1)
            account.guard()


class UnguardedRisk(RiskEngine):
    def __init__(self) -> None:
        super().__init__()
        self.ledger = UnguardedLedger(self.fx, self.alerts)
        self.accounts = self.ledger.accounts


def _market(no_room: bool) -> tuple[Market, list]:
    """The market and the events of every command applied to it from now on."""
    m = market(
        limit=12_000,
        capacity=12_000,
        holding=25,
        fee_bp=10,
        haircut_bp=250,
        risk=UnguardedRisk() if no_room else None,
    )
    log: list = []
    apply = m.apply

    def logged(cmd, ts=None):
        events = apply(cmd, ts)
        log.append(events)
        return events

    m.apply = logged
    return _shared_guarantors(m), log


@settings(max_examples=100, deadline=None)
@given(st.lists(ops, min_size=1, max_size=100))
def test_guards_when_random_streams_then_same_events_as_settling_every_change(stream):
    (lazy, lazy_log), (eager, eager_log) = _market(False), _market(True)
    for roll, a, b in stream:
        for m in (lazy, eager):
            if b % 16 == 0:
                name, kind = ("BANK", GuarantorKind.BANK) if a % 2 else ("INSURER", INSURER)
                m.apply(SetGuarantor(name, name.lower(), kind, "CNY", 1_000 + a % 14_000))
            _apply(m, roll, a, b)
    assert lazy_log == eager_log
    assert lazy.core.fingerprint() == eager.core.fingerprint()
