#!/usr/bin/env bash
# bench.api_throughput with everything it needs: PostgreSQL, Redis, one Celery worker, the web
# server (gunicorn, as bin/run serves it), and the Grocery train catalogue indexed with
# grocery_lite0. Writes bench/results/api-throughput.json (or $JSON). COUNT and CLIENTS set the load
# (default 200 listings, 8 clients); PHOTOS_PER_LISTING (default 1) may list several counts, "1 4",
# each measured in turn as a seller of its own, its JSON named with "-4photos" for 4;
# WORKER_AFTER_POSTING=1 leaves the web server alone on the machine while photos are posted and
# starts the worker only then;
# CATALOG_BATCH_PHOTOS, CATALOG_WEB_PROCESSES and CATALOG_WEB_THREADS reach the worker and the web
# server.
set -euo pipefail
cd "$(dirname "$0")/.."
py=$(bin/venv)/bin/python
dir=${BENCH_DIR:-/tmp/bench-api}
grocery=../shared/datasets/grocery-store/dataset
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/catalog_bench CELERY_BROKER_URL=redis://127.0.0.1:6379/3
export CATALOG_VAR_DIR=$dir/var CATALOG_API_RATE=100000/minute  # measure capacity, not the throttle
rm -rf "$dir" && mkdir -p "$dir"
dropdb -h 127.0.0.1 -U postgres --if-exists catalog_bench && createdb -h 127.0.0.1 -U postgres catalog_bench
redis-cli -n 3 flushdb > /dev/null
bin/secret-key
$py manage.py migrate --noinput > /dev/null
$py manage.py import_catalog $grocery/train --backbone grocery_lite0 > "$dir/import.log" 2>&1
worker_command="bin/worker >> $dir/worker.log 2>&1"
after=()
if [ "${WORKER_AFTER_POSTING:-0}" = 1 ]; then
  after=(--worker-after-posting "$worker_command")
  worker=
else
  eval "$worker_command" &
  worker=$!
fi
CATALOG_ADDRESS=127.0.0.1:8020 "$(bin/venv)/bin/gunicorn" --config config/gunicorn.py config.wsgi \
  > "$dir/web.log" 2>&1 &
web=$!
trap 'kill $web $worker' EXIT
sleep 8
json=${JSON:-bench/results/api-throughput.json}
for photos in ${PHOTOS_PER_LISTING:-1}; do
  key=$($py manage.py shell --no-imports -c "
from django.contrib.auth.models import User
from catalog.models import ApiToken
print(ApiToken.objects.issue(User.objects.create_user('bench-$photos', password='a-long-password-9'), 'bench')[1])")
  $py -m bench.api_throughput --url http://127.0.0.1:8020 --token "$key" --photos $grocery/val \
    --count "${COUNT:-200}" --clients "${CLIENTS:-8}" --photos-per-listing "$photos" "${after[@]}" \
    --json "${json%.json}$([ "$photos" = 1 ] || echo "-${photos}photos").json"
done
