#!/usr/bin/env bash
# The mini-program's end-to-end road against the real backend (see README.md):
# a fresh SQLite database with the demo county, a fake WeChat code2session server, the app
# under gunicorn with 2-second access tokens, and the client's own request module driving
# it from Node. Everything listens on 127.0.0.1 and is stopped on exit, whatever happens.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
cd "$REPO"
VENV_BIN="$REPO/.venv/bin"

TMP="$(mktemp -d)"
FAKE_PID=""
APP_PID=""
cleanup() {
  status=$?
  set +e
  [ -n "$APP_PID" ] && kill "$APP_PID" 2>/dev/null && wait "$APP_PID" 2>/dev/null
  [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null && wait "$FAKE_PID" 2>/dev/null
  if [ "$status" -ne 0 ] && [ -f "$TMP/app.log" ]; then
    echo "---- app log (last 40 lines) ----"; tail -n 40 "$TMP/app.log"
  fi
  rm -rf "$TMP"
  exit "$status"
}
trap cleanup EXIT INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# 1. fake WeChat
node "$HERE/fake-wechat.js" >"$TMP/fake.port" 2>"$TMP/fake.log" &
FAKE_PID=$!
for _ in $(seq 1 50); do [ -s "$TMP/fake.port" ] && break; sleep 0.1; done
FAKE_PORT="$(head -n1 "$TMP/fake.port")"
[ -n "$FAKE_PORT" ] || { echo "fake WeChat did not start"; exit 1; }

# 2. a fresh database with the demo county
export COOP_ENV=development
export DATABASE_URL="sqlite:///$TMP/e2e.sqlite3"
export WECHAT_API_BASE="http://127.0.0.1:$FAKE_PORT"
export JWT_ACCESS_SECONDS=2 # access tokens expire during the road (the server allows 5 s leeway)
export DISCLOSURE_MIN_DAYS=0
"$VENV_BIN/flask" --app wsgi db upgrade >"$TMP/migrate.log" 2>&1 || { cat "$TMP/migrate.log"; exit 1; }
"$VENV_BIN/flask" --app wsgi seed demo >"$TMP/seed.log" 2>&1 || { cat "$TMP/seed.log"; exit 1; }

# 3. the app
APP_PORT="$(free_port)"
GUNICORN_WORKERS=2 GUNICORN_BIND="127.0.0.1:$APP_PORT" GUNICORN_ACCESS_LOG="$TMP/access.log" \
  "$VENV_BIN/gunicorn" -c gunicorn.conf.py --bind "127.0.0.1:$APP_PORT" wsgi:app >"$TMP/app.log" 2>&1 &
APP_PID=$!
ready=""
for _ in $(seq 1 60); do
  if curl -fsS --max-time 2 "http://127.0.0.1:$APP_PORT/readyz" >/dev/null 2>&1; then ready=1; break; fi
  kill -0 "$APP_PID" 2>/dev/null || break
  sleep 0.5
done
[ -n "$ready" ] || { echo "the app did not become ready"; exit 1; }

# 4. the road
E2E_BASE_URL="http://127.0.0.1:$APP_PORT" timeout 120 node --test "$HERE/road.test.js"
