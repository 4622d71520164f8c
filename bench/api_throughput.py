"""Post photos through the REST API from concurrent clients while workers categorize them.

    python -m bench.api_throughput --url http://127.0.0.1:8000 --token KEY --photos DIR \
        [--count 200] [--clients 8] [--photos-per-listing 1] [--warmup 16] [--worker-after-posting CMD]
        [--json FILE]

Each request creates one listing with --photos-per-listing photos (the photos under DIR, in turn),
as a seller with no other listings; --warmup listings are posted first and not timed. Reported: how
many requests, and photos, were accepted (201) per second, the requests' latency (p50, p99), and,
once every listing (the warm-up's too) has ended done or failed, how many photos per second the
workers categorized end to end. With --worker-after-posting, the web
server has the machine to itself while the photos are posted, and CMD (a worker) is started only
then, to categorize them. The server's CATALOG_API_RATE must allow the load.
"""

import argparse
import os
import signal
import statistics
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from vision.composites import list_images
from vision.figures import write_figures

SETTLE_TIMEOUT = 1800


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--token", required=True, help="an API token of the seller to post as")
    parser.add_argument("--photos", required=True, help="a folder of photos (any depth)")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--photos-per-listing", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=16, help="listings posted first, not timed")
    parser.add_argument("--worker-after-posting", metavar="CMD",
                        help="a command that starts a worker, run once every photo is posted")
    parser.add_argument("--json")
    return parser


_local = threading.local()


def _session(token):
    """One HTTP session per client thread (requests sessions are not shared safely)."""
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
        _local.session.headers["Authorization"] = f"Token {token}"
    return _local.session


def post_one(token, url, paths, number):
    files = []
    for path in paths:
        with open(path, "rb") as handle:
            files.append(("photos", (os.path.basename(path), handle.read(), "image/jpeg")))
    started = time.perf_counter()
    response = _session(token).post(f"{url}/api/v1/listings/", data={"title": f"bench {number}"}, files=files,
                                    timeout=300)
    return response.status_code, time.perf_counter() - started


def wait_until_settled(session, url):
    """Wait until no listing of the seller is processing; then (done, failed, still processing)
    listing counts."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while _count(session, url, "processing") and time.monotonic() < deadline:
        time.sleep(1)
    return _count(session, url, "done"), _count(session, url, "failed"), _count(session, url, "processing")


def _count(session, url, status):
    return session.get(f"{url}/api/v1/listings/", params={"status": status}, timeout=60).json()["count"]


def percentile(values, share):
    return statistics.quantiles(values, n=100)[round(share * 100) - 1] if len(values) > 1 else values[0]


def main(args):
    paths = list_images(args.photos)
    photos = [_photos_of(paths, n, args.photos_per_listing) for n in range(args.warmup + args.count)]
    with ThreadPoolExecutor(args.clients) as pool:
        # Untimed: a server's first requests per process load what it loads lazily.
        list(pool.map(lambda n: post_one(args.token, args.url, photos[n], n), range(args.warmup)))
        started = time.perf_counter()
        results = list(pool.map(lambda n: post_one(args.token, args.url, photos[n], n),
                                range(args.warmup, args.warmup + args.count)))
    posting_seconds = time.perf_counter() - started
    latencies = [latency for code, latency in results if code == 201]
    # A session of its own, so the worker's processes all stop with it.
    worker = (subprocess.Popen(args.worker_after_posting, shell=True, start_new_session=True)
              if args.worker_after_posting else None)
    try:
        done, failed, unsettled = wait_until_settled(_session(args.token), args.url)
    finally:
        if worker:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait()
    total_seconds = time.perf_counter() - started
    figures = {
        "requests": args.count,
        "clients": args.clients,
        "warmup_requests": args.warmup,
        "worker_during_posting": not args.worker_after_posting,
        "accepted": len(latencies),
        "accepted_per_second": len(latencies) / posting_seconds,
        "photos_per_listing": args.photos_per_listing,
        "photos_accepted_per_second": len(latencies) * args.photos_per_listing / posting_seconds,
        "latency_p50_s": percentile(latencies, 0.50) if latencies else None,
        "latency_p99_s": percentile(latencies, 0.99) if latencies else None,
        "listings_done": done,
        "listings_failed": failed,
        "listings_unsettled": unsettled,
        "categorized_per_second_end_to_end": (done + failed) * args.photos_per_listing / total_seconds,
    }
    print(figures)
    write_figures(figures, args.json)
    return figures


def _photos_of(paths, number, count):
    """The photos of the number-th listing: the next `count` of the folder's, in turn."""
    return [paths[(number * count + i) % len(paths)] for i in range(count)]


if __name__ == "__main__":
    main(get_args_parser().parse_args())
