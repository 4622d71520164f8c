"""The app as it is served, on services of its own to stop and start: a private PostgreSQL
cluster, a private Redis, the web server (gunicorn with config/gunicorn.py, as bin/run starts
it), photo workers and the sweeper (bin/worker). The fault tests (tests/faults) and the soak
benchmark (bench.soak) break it and watch every photo end.

With storage="s3" the files live in a private SeaweedFS S3 endpoint instead, and every process
is a host of its own: its own empty scratch folder (media, index copy, embedding cache), no
folder shared with another (tests/test_many_hosts.py)."""

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import redis
import requests

REPO = Path(__file__).resolve().parent.parent
PYTHON = Path(sys.executable)
SETTLED = ("done", "failed")
BUCKET = "catalog"
# SeaweedFS's listening ports (`weed mini`), each set to one of the stack's own.
SEAWEEDFS_PORTS = ("master.port", "volume.port", "filer.port", "s3.port", "admin.port", "s3.port.iceberg")


class StackError(RuntimeError):
    """A part of the stack did not start; the message holds the end of its log."""


class Stack:
    """Start with start(), end with stop(). `accepted` holds the uploads the web server accepted
    ({listing uuid: photo count}); photo_statuses() reads what became of them."""

    def __init__(self, catalogue, workers=1, web_processes=1, web_threads=4, sweep_seconds=5, storage="local",
                 env=None):
        self.catalogue = catalogue
        self.storage = storage
        self.root = Path(tempfile.mkdtemp(prefix="catalog-stack-"))
        self.root.chmod(0o755)  # PostgreSQL runs as its own user and keeps its cluster in here
        self.worker_count = workers
        self.ports = {name: free_port() for name in ("database", "broker", "web")}
        self.url = f"http://127.0.0.1:{self.ports['web']}"
        self.database_url = f"postgres://postgres@127.0.0.1:{self.ports['database']}/catalog"
        self.env = {key: value for key, value in os.environ.items()
                    if not key.startswith(("TEST_", "CATALOG_", "CELERY_", "DJANGO_", "PYTEST"))} | {
            "DATABASE_URL": self.database_url,
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{self.ports['broker']}/0",
            "CATALOG_VAR_DIR": str(self.root / "var"),
            "CATALOG_MEDIA_ROOT": str(self.root / "media"),
            "CATALOG_INDEX_PATH": str(self.root / "index" / "reference.npz"),
            "CATALOG_EMBEDDING_CACHE": str(self.root / "embeddings.sqlite3"),
            "CATALOG_SWEEP_SECONDS": str(sweep_seconds),
            "CATALOG_ADDRESS": f"127.0.0.1:{self.ports['web']}",
            "CATALOG_WEB_PROCESSES": str(web_processes),
            "CATALOG_WEB_THREADS": str(web_threads),
            "CATALOG_API_RATE": "1000000/minute",
            "DJANGO_SECRET_KEY": "stack-secret-key-" + "s" * 40,
        } | (env or {})
        if storage == "s3":
            # Every port of its own (SeaweedFS's defaults would meet bin/services' server); gRPC
            # listens on each port + 10000.
            self.storage_ports = {flag: free_port(grpc_too=True) for flag in SEAWEEDFS_PORTS}
            self.storage_url = f"http://127.0.0.1:{self.storage_ports['s3.port']}"
            self.env |= {"CATALOG_STORAGE": "s3", "AWS_STORAGE_BUCKET_NAME": BUCKET,
                         "AWS_S3_ENDPOINT_URL": self.storage_url, "AWS_ACCESS_KEY_ID": "stack",
                         "AWS_SECRET_ACCESS_KEY": "stack-secret"}
        self.processes = {}  # name -> Popen, each in a session of its own
        self.accepted = {}
        self.token = None

    # --- the whole stack

    def start(self):
        self._init_database()
        self.start_database()
        self.start_broker()
        if self.storage == "s3":
            self.start_storage()
        self._manage("migrate", "--noinput")
        self._manage("import_catalog", str(self.catalogue))
        self.token = self._issue_token()
        self._start("web", [PYTHON.with_name("gunicorn"), "--config", "config/gunicorn.py", "config.wsgi"])
        for number in range(self.worker_count):
            self.start_worker(number)
        self.start_sweeper()
        _wait_until(self._web_answers, 120, lambda: StackError(f"the web server did not start:\n{self.log('web')}"))
        return self

    def stop(self):
        # The broker last: workers stop cleanly while it answers.
        for name in sorted(self.processes, key=lambda name: name == "broker"):
            self._end(name, signal.SIGTERM)
        if (self.root / "postgres" / "postmaster.pid").exists():
            self.stop_database()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- faults

    def stop_database(self):
        self._postgres("pg_ctl", "-D", self.root / "postgres", "stop", "-m", "fast", "-w")

    def start_database(self):
        self._postgres("pg_ctl", "-D", self.root / "postgres", "-l", self.root / "postgres.log", "-w", "start",
                       "-o", f"-p {self.ports['database']} -k {self.root / 'postgres'} -c listen_addresses=127.0.0.1")

    def start_storage(self):
        (self.root / "seaweedfs").mkdir(exist_ok=True)
        ports = [f"-{flag}={port}" for flag, port in self.storage_ports.items()]
        self._start("storage", [PYTHON.with_name("weed"), "mini", f"-dir={self.root / 'seaweedfs'}", "-ip=127.0.0.1",
                                "-ip.bind=127.0.0.1", *ports, "-webdav=false", "-admin.ui=false", f"-bucket={BUCKET}"])
        _wait_until(self._storage_answers, 60,
                    lambda: StackError(f"SeaweedFS did not start:\n{self.log('storage')}"))

    def stop_storage(self):
        self._end("storage", signal.SIGTERM)

    def stop_broker(self):
        self._end("broker", signal.SIGTERM)

    def start_broker(self):
        # No persistence: a broker that stops loses its queue, the harder case.
        self._start("broker", ["redis-server", "--port", str(self.ports["broker"]), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no"])
        _wait_until(self._broker_answers, 30, lambda: StackError("the private Redis did not start"))

    def start_worker(self, number):
        self._start(f"worker{number}", ["bin/worker", "--hostname", f"worker{number}@%h"])

    def start_sweeper(self):
        self._start("sweeper", ["bin/worker", "sweeper"])

    def stop_sweeper(self):
        self._end("sweeper", signal.SIGTERM)

    def kill_worker(self, number):
        """SIGKILL the worker and its pool, as the kernel's out-of-memory killer would."""
        self._end(f"worker{number}", signal.SIGKILL)

    # --- the seller's side

    def upload(self, title, photos, idempotency_key=None, timeout=120):
        """POST a listing: (the response, or None when the server could not be reached; seconds).
        An accepted one is kept in `accepted` (once, however often its key is replayed)."""
        headers = {"Authorization": f"Token {self.token}"} | ({"Idempotency-Key": idempotency_key}
                                                              if idempotency_key else {})
        started = time.monotonic()
        try:
            response = requests.post(f"{self.url}/api/v1/listings/", data={"title": title},
                                     files=[("photos", photo) for photo in photos], headers=headers, timeout=timeout)
        except requests.RequestException:
            return None, time.monotonic() - started
        if response.status_code == 201:
            self.accepted[response.json()["uuid"]] = len(photos)
        return response, time.monotonic() - started

    def photo_statuses(self, listings=None):
        """{listing uuid: [status of each photo]} of the accepted listings (or of `listings`)."""
        wanted = list(self.accepted if listings is None else listings)
        found = {uuid: [] for uuid in wanted}
        with psycopg.connect(self.database_url, connect_timeout=10) as connection:
            rows = connection.execute(
                "SELECT l.uuid::text, p.status FROM catalog_photo p JOIN catalog_listing l ON l.id = p.listing_id "
                "WHERE l.uuid::text = ANY(%s)", [wanted]).fetchall()
        for uuid, status in rows:
            found[uuid].append(status)
        return found

    def wait_until_settled(self, seconds, listings=None):
        """Whether every photo of the accepted listings ended done or failed within `seconds`."""
        return _wait_until(lambda: self._settled(listings), seconds)

    def _settled(self, listings):
        try:
            statuses = self.photo_statuses(listings)
        except psycopg.OperationalError:
            return False
        return all(status in SETTLED for photos in statuses.values() for status in photos)

    # --- parts

    def log(self, name):
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def _start(self, name, command):
        log = open(self.root / f"{name}.log", "a")
        self.processes[name] = subprocess.Popen([str(part) for part in command], cwd=REPO, env=self._env_of(name),
                                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def _env_of(self, host):
        """The environment of a process; with S3 storage, with an empty scratch folder of its own
        (a process started again gets a new one, as a fresh host would)."""
        if self.storage != "s3":
            return self.env
        scratch = Path(tempfile.mkdtemp(prefix=f"{host}-", dir=self.root))
        return self.env | {"CATALOG_VAR_DIR": str(scratch / "var"), "CATALOG_MEDIA_ROOT": str(scratch / "media"),
                           "CATALOG_INDEX_PATH": str(scratch / "index" / "reference.npz"),
                           "CATALOG_EMBEDDING_CACHE": str(scratch / "embeddings.sqlite3")}

    def _end(self, name, sig):
        process = self.processes.pop(name)
        for signal_now in (sig, signal.SIGKILL):
            try:
                os.killpg(process.pid, signal_now)
                process.wait(timeout=60)
                return
            except ProcessLookupError:
                return
            except subprocess.TimeoutExpired:
                pass  # then SIGKILL

    def _manage(self, *args):
        done = subprocess.run([PYTHON, "manage.py", *args], cwd=REPO, env=self._env_of("manage"), capture_output=True,
                              text=True)
        if done.returncode:
            raise StackError(f"manage.py {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
        return done.stdout

    def manage(self, *args):
        """Run a manage.py command as a host of its own would; its output."""
        return self._manage(*args)

    def _issue_token(self):
        script = ("from django.contrib.auth import get_user_model; from catalog.models import ApiToken; "
                  "seller = get_user_model().objects.create_user('soak', password='a-long-password-1'); "
                  "print(ApiToken.objects.issue(seller, 'stack')[1])")
        return self._manage("shell", "-c", script).strip().splitlines()[-1]

    def _init_database(self):
        (self.root / "postgres").mkdir()
        (self.root / "postgres.log").touch()
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            for path in (self.root / "postgres", self.root / "postgres.log"):
                os.chown(path, account.pw_uid, account.pw_gid)
        self._postgres("initdb", "-D", self.root / "postgres", "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start_database()
        self._postgres("createdb", "-h", "127.0.0.1", "-p", self.ports["database"], "-U", "postgres", "catalog")
        self.stop_database()

    def _postgres(self, program, *args):
        """Run a PostgreSQL program, as the postgres user when this is root (initdb refuses root)."""
        command = [_postgres_bin(program), *map(str, args)]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.root)
        if done.returncode:
            raise StackError(f"{program} failed:\n{done.stdout}\n{done.stderr}\n{self.log('postgres')}")

    def _web_answers(self):
        try:
            return requests.get(f"{self.url}/login/", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def _storage_answers(self):
        try:
            requests.get(self.storage_url, timeout=5)
            return True
        except requests.RequestException:
            return False

    def _broker_answers(self):
        try:
            return redis.Redis(port=self.ports["broker"]).ping()
        except redis.ConnectionError:
            return False


def _postgres_bin(program):
    found = shutil.which(program) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{program}"))), None)
    if found is None:
        raise StackError(f"{program} (PostgreSQL) is not installed")
    return found


def free_port(grpc_too=False):
    """A TCP port nothing listens on, for a server a test starts; with `grpc_too`, one whose
    port + 10000 is free as well (SeaweedFS's gRPC port beside each)."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if not grpc_too or (port + 10000 < 65536 and _is_free(port + 10000)):
            return port


def _is_free(port):
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _wait_until(condition, seconds, error=None):
    """Whether condition() came true within `seconds`; with `error`, raise error() instead of False."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    if error:
        raise error()
    return False
