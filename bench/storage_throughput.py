"""Upload throughput and worker photos/s with the files on local disk against an S3 bucket
(SeaweedFS on the same machine), in one run: the served app of tests/stack.py (gunicorn, one
photo worker, the sweeper, private PostgreSQL and Redis), once per storage.

    python -m bench.storage_throughput [--photos 60] [--clients 4] [--json FILE]

Uploads: `--clients` threads post one-photo listings through the API as fast as they are answered
(the photos are held in memory, Grocery train photos of the small catalogue's leaves); the figure
is listings answered 201 per second of wall time. Worker: photos done per second, from the first
photo a worker started to the last it finished (the rows' own `started` and `finished`), the
worker's models loaded before (a first photo is categorized and waited for).
"""

import argparse
import concurrent.futures
import os
import platform
import tempfile
import time
from pathlib import Path

import psycopg

from tests.photos import copy_small_catalogue, photos_beyond_small_catalogue
from tests.stack import Stack
from vision.figures import write_figures

REFERENCES = 8


def get_args_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=60)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--json")
    return parser


def measure(storage, catalogue, uploads, clients):
    with Stack(catalogue, storage=storage, web_processes=2, web_threads=4) as stack:
        warm, _ = stack.upload("warm-up", [uploads[0]])
        assert warm.status_code == 201, warm.text
        assert stack.wait_until_settled(300)
        stack.accepted.clear()
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(clients) as pool:
            answers = list(pool.map(lambda pair: stack.upload(f"Photo {pair[0]}", [pair[1]])[0],
                                    enumerate(uploads)))
        upload_seconds = time.perf_counter() - started
        assert all(answer is not None and answer.status_code == 201 for answer in answers)
        assert stack.wait_until_settled(1800)
        with psycopg.connect(stack.database_url) as connection:
            first, last, done = connection.execute(
                "SELECT min(p.started), max(p.finished), count(*) FILTER (WHERE p.status = 'done') "
                "FROM catalog_photo p JOIN catalog_listing l ON l.id = p.listing_id WHERE l.title LIKE 'Photo %%'"
            ).fetchone()
        return {"uploads_per_second": len(uploads) / upload_seconds, "upload_seconds": upload_seconds,
                "photos_done": done, "worker_photos_per_second": done / (last - first).total_seconds()}


def main(args):
    try:
        uploads = photos_beyond_small_catalogue(args.photos, REFERENCES)
    except ValueError as error:
        raise SystemExit(f"--photos {args.photos}: {error}")
    catalogue = copy_small_catalogue(Path(tempfile.mkdtemp()) / "reference", "train", REFERENCES)
    figures = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
               "photos": len(uploads), "clients": args.clients}
    for storage in ("local", "s3"):
        figures[storage] = measure(storage, catalogue, uploads, args.clients)
        print(storage, {key: round(value, 2) for key, value in figures[storage].items()})
    for key in ("uploads_per_second", "worker_photos_per_second"):
        figures[f"s3_to_local_{key}"] = figures["s3"][key] / figures["local"][key]
        print(f"{key}: S3 / local = {figures[f's3_to_local_{key}']:.2f}")
    write_figures(figures, args.json)


if __name__ == "__main__":
    main(get_args_parser().parse_args())
