"""Post photos through the REST API from concurrent clients while workers categorize them.

    python bench/api_throughput.py --url http://127.0.0.1:8000 --token KEY --photos DIR \
        [--count 200] [--clients 8] [--json FILE]

Each request creates one listing with one photo (the photos under DIR, in turn), as a seller with
no other listings. Reported: how many requests were accepted (201) per second, their latency (p50,
p99), and, once every photo has ended done or failed, how many photos per second the workers
categorized end to end. The server's CATALOG_API_RATE must allow the load.
"""

import argparse
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from vision.composites import list_images  # noqa: E402
from vision.figures import write_figures  # noqa: E402

SETTLE_TIMEOUT = 1800


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--token", required=True, help="an API token of the seller to post as")
    parser.add_argument("--photos", required=True, help="a folder of photos (any depth)")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--json")
    return parser


_local = threading.local()


def _session(token):
    """One HTTP session per client thread (requests sessions are not shared safely)."""
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
        _local.session.headers["Authorization"] = f"Token {token}"
    return _local.session


def post_one(token, url, path, number):
    with open(path, "rb") as handle:
        started = time.perf_counter()
        response = _session(token).post(f"{url}/api/v1/listings/", data={"title": f"bench {number}"},
                                        files=[("photos", (os.path.basename(path), handle, "image/jpeg"))],
                                        timeout=300)
    return response.status_code, time.perf_counter() - started


def wait_until_settled(session, url):
    """Seconds until no listing of the seller is processing; then (done, failed) listing counts
    (each bench listing has one photo)."""
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
    started = time.perf_counter()
    with ThreadPoolExecutor(args.clients) as pool:
        results = list(pool.map(lambda n: post_one(args.token, args.url, paths[n % len(paths)], n),
                                range(args.count)))
    posting_seconds = time.perf_counter() - started
    latencies = [latency for code, latency in results if code == 201]
    done, failed, unsettled = wait_until_settled(_session(args.token), args.url)
    total_seconds = time.perf_counter() - started
    figures = {
        "requests": args.count,
        "clients": args.clients,
        "accepted": len(latencies),
        "accepted_per_second": len(latencies) / posting_seconds,
        "latency_p50_s": percentile(latencies, 0.50) if latencies else None,
        "latency_p99_s": percentile(latencies, 0.99) if latencies else None,
        "photos_done": done,
        "photos_failed": failed,
        "listings_unsettled": unsettled,
        "categorized_per_second_end_to_end": (done + failed) / total_seconds,
    }
    print(figures)
    write_figures(figures, args.json)
    return figures


if __name__ == "__main__":
    main(get_args_parser().parse_args())
