"""``ipx admin``: the operators' command line on the admin port.

Public names: :func:`add_admin_subcommand`, :data:`ADMIN_ARGS`.

Each action but two builds engine or risk commands and sends them one by one, printing each
acknowledgement with the events it caused. ``credit`` reads every credit line and guarantor
(a table, or ``--json``); ``watch`` follows the risk desk's stream (``--trades`` adds a drop
copy of every trade). Arguments are checked before connecting: a wrong one gets the action's
usage line.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.messages import (
    EndTradingDay,
    ListInstrument,
    MassCancel,
    Phase,
    SetPhase,
    SetReferencePrice,
    Tick,
    Uncross,
)
from gateway.cli_output import credit_table, key_dir, positions_table, show
from marketdata.ticker import aligned

ADMIN = "tcp://127.0.0.1:5558"
ADMIN_ARGS = {
    "halt": "INSTRUMENT",
    "resume": "INSTRUMENT",
    "close": "INSTRUMENT",
    "phase": "INSTRUMENT PHASE",
    "refprice": "INSTRUMENT PRICE",
    "kill": "PARTICIPANT",
    "unkill": "PARTICIPANT",
    "kill-guarantor": "GUARANTOR",
    "cancel-all": "PARTICIPANT",
    "uncross": "INSTRUMENT",
    "tick": "",
    "endofday": "[INSTRUMENT]",
    "list": "INSTRUMENTS.toml",
    "fx": "CCY RATE [CCY RATE ...] (the whole table, every currency in use)",
    "risk": "RISK.toml",
    "line": "PARTICIPANT CCY LIMIT GUARANTOR[=SHARE_BP] ... (limit in minor units)",
    "settle": "PARTICIPANT INSTRUMENT AMOUNT (cash settled, minor units; < 0 received)",
    "credit": "[PARTICIPANT] (read: lines and guarantors, used and limit; its positions)",
    "watch": "(follow risk alerts, kill switches and settings; --trades, --seconds)",
    "sessions": "[PARTICIPANT] (read: who is logged on, since when, live orders)",
    "logout": "PARTICIPANT (end its sessions; each one's cancel-on-disconnect applies)",
}
"""What each ``ipx admin`` action takes after its name: its help, and its usage line."""


def add_admin_subcommand(commands) -> None:
    """Register ``ipx admin`` on the ``ipx`` subcommand parsers."""
    admin = commands.add_parser("admin", help="operator commands (needs an admin key)")
    admin.add_argument("action", choices=ADMIN_ARGS)
    admin.add_argument(
        "target",
        nargs="*",
        help="; ".join(f"{action} {takes}".rstrip() for action, takes in ADMIN_ARGS.items()),
    )
    admin.add_argument("--name", default="ops", help="admin key name")
    admin.add_argument("--endpoint", default=ADMIN)
    admin.add_argument("--key-dir", help="key directory (default: the demo key directory)")
    admin.add_argument(
        "--json", action="store_true", help="credit, sessions: one JSON line, not a table"
    )
    admin.add_argument("--seconds", type=float, help="watch: stop after this many seconds")
    admin.add_argument("--trades", action="store_true", help="watch: every trade too")
    admin.set_defaults(run=_admin)


def _admin(args: argparse.Namespace) -> int:
    from engine.instruments import load_instruments
    from risk.config import fx_rate, load_setup
    from risk.messages import KillScope, KillSwitch, SetCreditLine, SetFxRates, Settle

    action, target = args.action, args.target
    if action == "credit":
        return _credit(args)
    if action == "watch":
        return _watch(args)
    if action in ("sessions", "logout"):
        return _sessions(args)
    builders = {
        "halt": lambda: [SetPhase(target[0], Phase.HALTED)],
        "resume": lambda: [SetPhase(target[0], Phase.CONTINUOUS)],
        "close": lambda: [SetPhase(target[0], Phase.CLOSED)],
        "refprice": lambda: [SetReferencePrice(target[0], int(target[1]))],
        "kill": lambda: [KillSwitch(KillScope.PARTICIPANT, target[0])],
        "unkill": lambda: [KillSwitch(KillScope.PARTICIPANT, target[0], engaged=False)],
        "kill-guarantor": lambda: [KillSwitch(KillScope.GUARANTOR, target[0])],
        "cancel-all": lambda: [MassCancel(target[0])],
        "fx": lambda: [SetFxRates(tuple(fx_rate(c, r) for c, r in _pairs(target)))],
        "risk": lambda: load_setup(Path(target[0]).read_bytes()),
        "settle": lambda: [Settle(target[0], target[1], int(target[2]))],
        "line": lambda: [
            SetCreditLine(target[0], target[1], int(target[2]), _backers(target[3:]))
        ],
        "phase": lambda: [SetPhase(target[0], _phase(target[1]))],
        "uncross": lambda: [Uncross(target[0])],
        "tick": lambda: [Tick()],
        "endofday": lambda: [EndTradingDay(target[0] if target else None)],
        "list": lambda: [ListInstrument(i) for i in load_instruments(target[0])],
    }
    try:
        commands = builders[action]()
    except (IndexError, KeyError, ValueError, OSError) as error:  # missing or bad arguments
        problem = "missing arguments" if isinstance(error, IndexError) else error
        raise SystemExit(f"usage: ipx admin {action} {ADMIN_ARGS[action]} ({problem})") from None
    client = _admin_client(args)
    for command in commands:
        print(show(client.request(command)))
    client.close()
    return 0


def _admin_client(args: argparse.Namespace):
    from gateway.auth import load_key_pair
    from gateway.client import AdminClient
    from gateway.config import SERVER_KEY

    keys = key_dir(args)
    server_key = load_key_pair(keys, SERVER_KEY).public
    return AdminClient(args.endpoint, server_key, load_key_pair(keys / "admin", args.name))


def _watch(args: argparse.Namespace) -> int:
    """``ipx admin watch``: each risk event as a JSON line, as it happens."""
    import time

    if args.target:
        raise SystemExit(f"usage: ipx admin watch {ADMIN_ARGS['watch']}")
    client = _admin_client(args)
    client.watch(trades=args.trades)
    deadline = time.monotonic() + args.seconds if args.seconds is not None else None
    try:
        while deadline is None or (left := deadline - time.monotonic()) > 0:
            wait = 1000 if deadline is None else max(1, int(left * 1000))
            batch = next(client.risk_events(wait), None)  # one batch, or None when quiet
            for event in batch.events if batch is not None else ():
                print(show(event), flush=True)
    finally:
        client.close()
    return 0


def _sessions(args: argparse.Namespace) -> int:
    """``ipx admin sessions`` (the logged-on sessions) or ``ipx admin logout`` (the ones it
    ended), as a table or JSON."""
    action, target = args.action, args.target
    if len(target) > 1 or (action == "logout" and not target):
        raise SystemExit(f"usage: ipx admin {action} {ADMIN_ARGS[action]}")
    client = _admin_client(args)
    if action == "logout":
        report = client.end_sessions(target[0])
    else:
        report = client.sessions(target[0] if target else "")
    client.close()
    print(show(report) if args.json else "\n".join(sessions_table(report.sessions)))
    return 0


def sessions_table(sessions: list) -> list[str]:
    """Sessions as aligned text, logon times in UTC.

    >>> from gateway.protocol import SessionView
    >>> day = 1_796_400_000_000_000_000
    >>> print("\\n".join(sessions_table([SessionView("MM-A", "00ab", day, 1000, False, 4)])))
    participant  connection  logged on (UTC)      heartbeat  cancel on disconnect  live orders
    MM-A         00ab        2026-12-04 16:00:00  1000 ms    no                              4
    """
    import datetime as dt

    rows = [("participant", "connection", "logged on (UTC)", "heartbeat",
             "cancel on disconnect", "live orders")]
    for v in sessions:
        when = dt.datetime.fromtimestamp(v.logon_ts // 10**9, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        rows.append((v.participant, v.connection, when, f"{v.heartbeat_ms} ms",
                     "yes" if v.cancel_on_disconnect else "no", str(v.live_orders)))
    return aligned(rows, right={5})


def _credit(args: argparse.Namespace) -> int:
    """``ipx admin credit``: each line's and guarantor's usage, as a table or JSON."""
    from engine.codes import Reason

    if len(args.target) > 1:
        raise SystemExit(f"usage: ipx admin credit {ADMIN_ARGS['credit']}")
    client = _admin_client(args)
    report = client.credit(args.target[0] if args.target else "")
    client.close()
    if args.json:
        print(show(report))
    elif report.reason != Reason.NONE:
        raise SystemExit(f"ipx admin credit: {report.reason.name}: {report.reason.description}")
    else:
        print("\n".join(credit_table(report.seq, report.lines, report.guarantors)))
        if report.positions:
            print("\n".join(positions_table(report.positions)))
    return 0


def _backers(values: list[str]) -> tuple:
    """``GUARANTOR[=SHARE_BP]`` arguments as backers (a lone guarantor carries 10,000 bp).

    >>> _backers(["BOC-HAINAN=6000", "PICC=4000"])
    (Backer(guarantor='BOC-HAINAN', share_bp=6000), Backer(guarantor='PICC', share_bp=4000))
    """
    from risk.messages import Backer

    if not values:
        raise ValueError("a line needs at least one guarantor")
    backers = []
    for value in values:
        guarantor, _, share = value.partition("=")
        backers.append(Backer(guarantor, int(share)) if share else Backer(guarantor))
    return tuple(backers)


def _pairs(values: list[str]) -> list[tuple[str, str]]:
    if not values or len(values) % 2:
        raise ValueError("each currency needs its rate")
    return list(zip(values[::2], values[1::2], strict=True))


def _phase(name: str) -> Phase:
    try:
        return Phase[name.upper()]
    except KeyError:
        names = ", ".join(p.name.lower() for p in Phase)
        raise ValueError(f"no phase {name!r}; one of {names}") from None
