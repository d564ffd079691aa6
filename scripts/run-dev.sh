#!/usr/bin/env bash
# `make run`: migrate, seed once, then the scheduler process beside the web server.
set -euo pipefail
cd "$(dirname "$0")/.."
export FLASK_APP=wsgi
FLASK=.venv/bin/flask
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-5000}

$FLASK db upgrade
$FLASK demo seed --orders "${DEMO_ORDERS:-3000}"

$FLASK jobs run &
SCHEDULER=$!
trap 'kill $SCHEDULER 2>/dev/null || true' EXIT INT TERM

echo
echo "  OrderDeck is running at http://$HOST:$PORT/  (scheduler pid $SCHEDULER; Ctrl-C stops both)"
echo
$FLASK run --host "$HOST" --port "$PORT" --no-reload
