"""Soak: uploads from concurrent clients against the served app while a worker is killed and the
broker and the database are restarted; then every accepted photo must end.

    $(bin/venv)/bin/python -m bench.soak [--uploads 300] [--clients 12] [--minutes 5] [--workers 2] \
        [--json bench/results/soak.json]

The app runs as tests/stack.py starts it: a private PostgreSQL cluster and Redis, gunicorn, photo
workers and the sweeper, the small Grocery catalogue (three leaves) as references. Each client
posts its share of the uploads (one real Grocery val photo each) evenly over the minutes, with an
Idempotency-Key, and retries a request the server could not answer or answered 503 after the
Retry-After it was given. Faults, as fractions of the run: a worker SIGKILLed at 0.2 (and started
again, as a supervisor would), the broker down for --broker-down seconds from 0.35, the database
down for --database-down seconds from 0.65.

Reported: uploads accepted (201), refused for good (any other answer after the retries), the 503s
and unreachable attempts that were retried; photos done, failed and lost (accepted but not ended
--settle-minutes after the last fault, or missing); the upload latency p50 / p99 of accepted
requests (the attempt that was accepted); how long after the last fault every photo had ended.
"""

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.photos import SMALL_CATALOGUE_LEAVES, copy_small_catalogue, grocery_images
from tests.stack import SETTLED, Stack

MAX_TRIES = 10


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uploads", type=int, default=300)
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--broker-down", type=float, default=60, help="seconds")
    parser.add_argument("--database-down", type=float, default=30, help="seconds")
    parser.add_argument("--settle-minutes", type=float, default=15)
    parser.add_argument("--json")
    return parser


def photos():
    """Real held-out Grocery photos of the catalogue's leaves, as (name, bytes, type)."""
    paths = [path for leaf in SMALL_CATALOGUE_LEAVES for path in grocery_images("val", leaf, 10)]
    return [(os.path.basename(path), Path(path).read_bytes(), "image/jpeg") for path in paths]


class Client:
    """One seller's client: its uploads, paced, each retried while the server is briefly away."""

    def __init__(self, stack, number, count, seconds, pool, tally):
        self.stack, self.number, self.count, self.seconds, self.pool, self.tally = (
            stack, number, count, seconds, pool, tally)

    def run(self):
        start = time.monotonic()
        for index in range(self.count):
            time.sleep(max(0.0, start + index * self.seconds / self.count - time.monotonic()))
            self.upload(index)

    def upload(self, index):
        key, photo = str(uuid.uuid4()), self.pool[(self.number * 7 + index) % len(self.pool)]
        for _ in range(MAX_TRIES):
            response, seconds = self.stack.upload(f"Soak {self.number}-{index}", [photo], idempotency_key=key)
            if response is not None and response.status_code == 201:
                self.tally.add("accepted", latency=seconds)
                return
            if response is not None and response.status_code != 503:
                self.tally.add(f"refused {response.status_code}")
                return
            self.tally.add("retried: unreachable" if response is None else "retried: 503")
            time.sleep(float(response.headers.get("Retry-After", 5)) if response is not None else 5)
        self.tally.add("gave up")


class Tally:
    def __init__(self):
        self.counts, self.latencies, self.lock = {}, [], threading.Lock()

    def add(self, outcome, latency=None):
        with self.lock:
            self.counts[outcome] = self.counts.get(outcome, 0) + 1
            if latency is not None:
                self.latencies.append(latency)


def inject_faults(stack, args, seconds, log):
    """The faults, at their moments of the run; returns when the last one has ended."""
    start = time.monotonic()

    def at(fraction):
        time.sleep(max(0.0, start + fraction * seconds - time.monotonic()))

    at(0.2)
    log("worker0 killed (SIGKILL) and started again")
    stack.kill_worker(0)
    stack.start_worker(0)
    at(0.35)
    log(f"broker stopped for {args.broker_down:.0f} s")
    stack.stop_broker()
    time.sleep(args.broker_down)
    stack.start_broker()
    at(0.65)
    log(f"database stopped for {args.database_down:.0f} s")
    stack.stop_database()
    time.sleep(args.database_down)
    stack.start_database()
    log("last fault ended")


def main(args):
    began = time.monotonic()

    def log(message):
        print(f"[{time.monotonic() - began:6.0f} s] {message}", flush=True)

    seconds = args.minutes * 60
    shares = [args.uploads // args.clients + (n < args.uploads % args.clients) for n in range(args.clients)]
    pool, tally = photos(), Tally()
    catalogue = copy_small_catalogue(Path(tempfile.mkdtemp(prefix="soak-catalogue-")), "train", 8)
    with Stack(catalogue, workers=args.workers, web_processes=2, web_threads=4, sweep_seconds=60) as stack:
        log(f"stack up; {args.uploads} uploads from {args.clients} clients over {args.minutes:g} min")
        with ThreadPoolExecutor(max_workers=args.clients + 1) as threads:
            faults = threads.submit(inject_faults, stack, args, seconds, log)
            clients = [threads.submit(Client(stack, n, share, seconds, pool, tally).run)
                       for n, share in enumerate(shares)]
            faults.result()
            recovered = time.monotonic()
            for client in clients:
                client.result()
        log(f"uploads ended: {tally.counts}")
        settled = stack.wait_until_settled(args.settle_minutes * 60)
        settled_after = time.monotonic() - recovered if settled else None
        statuses = [status for found in stack.photo_statuses().values() for status in found]
        expected = sum(stack.accepted.values())
    report = {
        "uploads": args.uploads, "clients": args.clients, "minutes": args.minutes, "workers": args.workers,
        "faults": {"worker_killed": 1, "broker_down_seconds": args.broker_down,
                   "database_down_seconds": args.database_down},
        "requests": dict(sorted(tally.counts.items())),
        "accepted": tally.counts.get("accepted", 0),
        "photos_accepted": expected,
        "done": statuses.count("done"),
        "failed": statuses.count("failed"),
        "lost": expected - sum(status in SETTLED for status in statuses),
        "latency_p50_s": round(statistics.median(tally.latencies), 3) if tally.latencies else None,
        "latency_p99_s": round(_percentile(tally.latencies, 0.99), 3) if tally.latencies else None,
        "all_ended_seconds_after_last_fault": round(settled_after, 1) if settled_after is not None else None,
    }
    print(json.dumps(report, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return report


def _percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


if __name__ == "__main__":
    main(get_args_parser().parse_args())
