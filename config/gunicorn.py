"""The web server of bin/run: gunicorn with a fixed number of processes and threads, so the
database connections it can hold are bounded (one per thread, kept between requests).

CATALOG_WEB_PROCESSES × CATALOG_WEB_THREADS must leave CATALOG_DB_RESERVE of PostgreSQL's
max_connections for workers and commands; the server refuses to start otherwise.
"""

import os

from config.environment import integer

bind = os.environ.get("CATALOG_ADDRESS", "127.0.0.1:8000")
EMBEDDED = not os.environ.get("CELERY_BROKER_URL")
# Embedded mode categorizes photos inside the web process, on a thread of its own so that uploads
# are answered at once (worker.embedded): one process keeps one copy of the models in memory,
# and one queue of photos.
if EMBEDDED:
    os.environ["CATALOG_EMBEDDED_TASKS"] = "background"
workers = integer("CATALOG_WEB_PROCESSES", 2 if os.environ.get("DATABASE_URL") else 1)
threads = integer("CATALOG_WEB_THREADS", 4)
worker_class = "gthread"
# A bulk request (up to 2 GB) is received and stored before it is answered. The settings read the
# same variable: an Idempotency-Key whose request is older than this is free again.
timeout = integer("CATALOG_WEB_TIMEOUT", 300)
accesslog = "-"
# The path without its query string, and no referrer: queries hold what sellers search for
# (?q=, ?reference=) and staff's filters name sellers (?seller=), which a log keeps for as long as
# it is kept.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"'
DB_RESERVE = integer("CATALOG_DB_RESERVE", 20)


def on_starting(server):
    """Refuse a configuration that could run PostgreSQL out of connections under load."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return
    import psycopg

    with psycopg.connect(url, connect_timeout=10) as connection:
        limit = int(connection.execute("SHOW max_connections").fetchone()[0])
        reserved = int(connection.execute("SHOW superuser_reserved_connections").fetchone()[0])
    available = limit - reserved - DB_RESERVE
    if workers * threads > available:
        raise SystemExit(
            f"{workers} web processes × {threads} threads could hold {workers * threads} database connections; "
            f"PostgreSQL allows {limit} ({reserved} reserved for superusers) and CATALOG_DB_RESERVE keeps "
            f"{DB_RESERVE} for workers and commands. Lower CATALOG_WEB_PROCESSES or CATALOG_WEB_THREADS, "
            f"or raise max_connections.")


def post_worker_init(worker):
    """Embedded: queue again what a stopped server left unfinished (its queue was in its memory), and
    run the periodic tasks that beat runs beside workers."""
    if EMBEDDED:
        from django.db import connections

        from worker import embedded

        embedded.resume_unfinished()
        embedded.start_schedule()
        connections.close_all()  # this thread's: it serves no request, so it keeps no connection
