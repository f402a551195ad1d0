#!/usr/bin/env bash
# The webserver and the daemon in the foreground, for a host without systemd (or to try the
# setup): `set -a; . deploy/mlperf-power.env; . secrets.env; set +a; deploy/run-service.sh`.
# Ctrl-C or SIGTERM stops both; if one of them exits, the other is stopped too.
set -uo pipefail
: "${DAGSTER_HOME:?DAGSTER_HOME is not set (the folder holding dagster.yaml)}"
for var in DAGSTER_PG_HOST DAGSTER_PG_PORT DAGSTER_PG_USER DAGSTER_PG_PASSWORD DAGSTER_PG_DB \
  DAGSTER_COMPUTE_LOG_DIR MLPERF_POWER_HOME; do
  if [ -z "${!var:-}" ]; then
    echo "run-service: $var is not set" >&2
    exit 2
  fi
done
if [ ! -f "$DAGSTER_HOME/dagster.yaml" ]; then
  echo "run-service: no $DAGSTER_HOME/dagster.yaml (copy deploy/dagster.yaml there)" >&2
  exit 2
fi
workspace="$(cd "$(dirname "$0")" && pwd)/workspace.yaml"
host="${MLPERF_POWER_WEBSERVER_HOST:-127.0.0.1}"
port="${MLPERF_POWER_WEBSERVER_PORT:-3000}"

dagster-webserver -h "$host" -p "$port" -w "$workspace" &
web=$!
dagster-daemon run -w "$workspace" &
daemon=$!
stop() {
  kill -TERM "$web" "$daemon" 2>/dev/null
  wait "$web" "$daemon"
}
trap 'stop; exit 130' INT TERM
wait -n "$web" "$daemon"
status=$?
echo "run-service: a process exited ($status); stopping the other" >&2
stop
exit "$status"
