"""The adtrack command line: ``python -m pipeline COMMAND`` parses its arguments here and runs the command."""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from config.settings import get_settings
from pipeline.domain.coredata import ENTITIES
from pipeline.domain.errors import AdtrackError


def _broker(args: argparse.Namespace) -> int:
    from pipeline.kafka.broker import serve

    return serve(args.port)


def _load_core_data(args: argparse.Namespace) -> int:
    from pipeline.cli.loader import publish_updates, read_updates

    updates = read_updates(Path(args.file))
    count = publish_updates(get_settings(), updates)
    print(f"published {count} core-data updates from {args.file} to {get_settings().topic_coredata_updates}")
    return 0


def _create_topics(args: argparse.Namespace) -> int:
    from pipeline.cli.topics import run

    return run(get_settings())


def _produce_events(args: argparse.Namespace) -> int:
    from pipeline.sim.produce import run

    return run(get_settings(), args)


def _demo(args: argparse.Namespace) -> int:
    from pipeline.sim.demo import run

    return run(get_settings(), args.rate)


def _backoffice(command: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from pipeline.cli import backoffice

        return backoffice.run(command, get_settings(), args)

    return run


def _archive(args: argparse.Namespace) -> int:
    import logging

    from pipeline.archive.consumer import run
    from pipeline.runtime.logs import JsonFormatter

    handler = logging.StreamHandler(sys.stdout)
    if get_settings().log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    return run(get_settings(), Path(args.out), args.max_records, args.max_seconds)


def _reconcile(args: argparse.Namespace) -> int:
    from pipeline.archive.reconcile import run

    return run(get_settings(), Path(args.archive))


def _soak(args: argparse.Namespace) -> int:
    from pipeline.sim.soak import run

    return run(args.duration, args.rate, args.workers, args.kill_every, args.seed, args.keep)


def _bench(args: argparse.Namespace) -> int:
    from pipeline.sim.bench import SMOKE, Options, run
    from pipeline.sim.bench.mix import Shares

    chosen = {"events": args.events, "runs": args.runs, "latency_s": args.latency, "soak_s": args.soak,
              "restore_rows": args.restore_rows, "rate": args.rate}
    base = SMOKE if args.smoke else Options()
    options = dataclasses.replace(
        base, **{k: v for k, v in chosen.items() if v is not None}, seed=args.seed, keep=args.keep,
        json=Path(args.json) if args.json else None,
        shares=Shares(args.invalid_ratio, args.duplicates, args.rerouted),
    )
    if options.runs == 0 and options.rate is None and (options.latency_s > 0 or options.soak_s > 0):
        raise SystemExit("bench: --runs 0 measures no maximum; give the latency and soak phases a --rate")
    return run(options)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description="adtrack command line")
    commands = parser.add_subparsers(dest="command", required=True)

    broker = commands.add_parser("broker", help="run the embedded Kafka-protocol broker in the foreground")
    broker.add_argument("--port", type=int, default=9092)
    broker.set_defaults(run=_broker)

    create = commands.add_parser(
        "create-topics", help="create every topic with its spec; refuse existing ones that do not fit"
    )
    create.set_defaults(run=_create_topics)

    load = commands.add_parser("load-core-data", help="publish a back-office export (JSON array or JSONL)")
    load.add_argument("file")
    load.set_defaults(run=_load_core_data)

    produce = commands.add_parser("produce-events", help="produce realistic test events over the sample core data")
    produce.add_argument("--count", type=int, default=1000, help="events to produce (0: until Ctrl-C)")
    produce.add_argument("--rate", type=float, default=0, help="events per second (0: as fast as possible)")
    produce.add_argument("--invalid-ratio", type=float, default=0.1, help="share of poison and rejected events")
    produce.add_argument("--seed", type=int, default=None, help="seed for a repeatable stream")
    produce.add_argument("--core-data", default=None, help="core-data export the events refer to")
    produce.add_argument("--quiet", action="store_true", help="no progress bar")
    produce.set_defaults(run=_produce_events)
    demo = commands.add_parser("demo", help="broker, sample core data, a worker and a steady event stream")
    demo.add_argument("--rate", type=float, default=50, help="events per second")
    demo.set_defaults(run=_demo)

    archive = commands.add_parser("archive", help="archive tracking.batch as hour-partitioned Parquet files")
    archive.add_argument("--out", required=True, help="folder of the archive (files under OUT/tracking/)")
    archive.add_argument("--max-records", type=int, default=100_000, help="rows per partition before a roll")
    archive.add_argument("--max-seconds", type=float, default=60.0, help="seconds after a roll's first record")
    archive.set_defaults(run=_archive)
    reconcile = commands.add_parser("reconcile", help="archived cost per campaign against the workers' spend")
    reconcile.add_argument("--archive", required=True, help="the archive's --out folder")
    reconcile.set_defaults(run=_reconcile)

    soak = commands.add_parser("soak", help="the reliability oracle over a long run with random worker kills")
    soak.add_argument("--duration", type=float, default=3600, help="seconds of traffic")
    soak.add_argument("--rate", type=float, default=100, help="events per second")
    soak.add_argument("--workers", type=int, default=2)
    soak.add_argument("--kill-every", type=float, default=60, help="mean seconds between kill -9 of a worker")
    soak.add_argument("--seed", type=int, default=1)
    soak.add_argument("--keep", action="store_true", help="keep the logs and data dirs")
    soak.set_defaults(run=_soak)

    bench = commands.add_parser("bench", help="throughput, latency, memory and restore time of one worker")
    bench.add_argument("--events", type=int, default=None, help="events preloaded per run (default 500000)")
    bench.add_argument("--runs", type=int, default=None, help="throughput runs; medians are reported (default 3)")
    bench.add_argument("--json", default=None, metavar="FILE", help="write every figure to FILE as JSON")
    bench.add_argument("--latency", type=float, default=None, metavar="SECONDS",
                       help="open-loop latency phase at half the measured rate (default 20; 0: skip)")
    bench.add_argument("--soak", type=float, default=None, metavar="SECONDS",
                       help="memory soak with a 60 s dedupe window (default 300; 0: skip)")
    bench.add_argument("--restore-rows", type=int, default=None,
                       help="tracking-state rows a fresh worker restores (default 1000000; 0: skip)")
    bench.add_argument("--invalid-ratio", type=float, default=0.05, help="share of poison and rejected events")
    bench.add_argument("--duplicates", type=float, default=0.02, help="share of repeated events")
    bench.add_argument("--rerouted", type=float, default=0.02, help="share of events sent off their home partition")
    bench.add_argument("--rate", type=float, default=None, metavar="EVENTS_PER_S",
                       help="rate of the latency and soak phases (default: half the measured maximum; "
                            "with --runs 0 it is required)")
    bench.add_argument("--seed", type=int, default=1)
    bench.add_argument("--smoke", action="store_true", help="a tiny run of every phase, to see that all work")
    bench.add_argument("--keep", action="store_true", help="keep the logs and data dirs")
    bench.set_defaults(run=_bench)

    subscribe = commands.add_parser("subscribe", help="subscribe to core-data changes; waits until a worker has it")
    subscribe.add_argument("name")
    subscribe.add_argument("--filter", required=True, help='filter policy, JSON: {"entity": ["campaign"]}')
    subscribe.add_argument("--topic", default=None, help="where its notifications go (default coredata.changes.NAME)")
    subscribe.add_argument("--snapshot", action="store_true", help="first the current state of all it matches")
    subscribe.add_argument("--no-wait", action="store_true", help="do not wait for a worker to confirm it")
    subscribe.set_defaults(run=_backoffice("subscribe"))
    unsubscribe = commands.add_parser("unsubscribe", help="end a subscription")
    unsubscribe.add_argument("name")
    unsubscribe.set_defaults(run=_backoffice("unsubscribe"))
    listing = commands.add_parser("subscriptions", help="the current subscriptions and their delivery counts")
    listing.set_defaults(run=_backoffice("subscriptions"))
    watch = commands.add_parser("watch-changes", help="one line per core-data change notification, as they come")
    watch.add_argument("--subscription", default=None, help="the notifications delivered to this subscription")
    watch.add_argument("--from-beginning", action="store_true", help="from the first one, not only new ones")
    watch.add_argument("--limit", type=int, default=None, help="stop after this many lines")
    watch.set_defaults(run=_backoffice("watch-changes"))

    coredata = commands.add_parser("coredata", help="show, set or delete one core-data entity by hand")
    actions = coredata.add_subparsers(dest="action", required=True)
    show = actions.add_parser("show", help="its stored form as the workers hold it, as JSON")
    show.add_argument("entity", choices=ENTITIES)
    show.add_argument("id")
    show.set_defaults(run=_backoffice("coredata show"))
    set_ = actions.add_parser("set", help="set fields (all of them for a new entity); waits until applied")
    set_.add_argument("entity", choices=ENTITIES)
    set_.add_argument("id")
    set_.add_argument("fields", nargs="+", metavar="field=value", help="a JSON value, or else a string")
    set_.set_defaults(run=_backoffice("coredata set"))
    delete = actions.add_parser("delete", help="delete an entity; waits until applied")
    delete.add_argument("entity", choices=ENTITIES)
    delete.add_argument("id")
    delete.set_defaults(run=_backoffice("coredata delete"))
    return parser


#: The commands that talk to the configured brokers (the others start an embedded broker of their own).
USES_BROKERS = {"archive", "create-topics", "reconcile", "load-core-data", "produce-events", "subscribe", "unsubscribe",
                "subscriptions", "watch-changes",
                "coredata"}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Ctrl-C ends every command, even when it was started by a script that ignores SIGINT (a
    # background job of a non-interactive shell inherits SIGINT ignored, and Python keeps it so).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        if args.command in USES_BROKERS:
            from pipeline.kafka.admin import check_brokers_sync

            check_brokers_sync(get_settings())
        return args.run(args)
    except AdtrackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130

