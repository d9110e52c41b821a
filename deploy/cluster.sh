#!/usr/bin/env bash
# A local three-node cluster on loopback, for the cluster tests and CI (docs/operations.md
# "Cluster"): three MariaDB Galera nodes, three app servers (gunicorn, server N talks to
# node N), nginx round-robin in front, Redis db 14 for the rate limits, a local S3
# (moto_server) for attachments.
#
#   deploy/cluster.sh up | down | status
#   deploy/cluster.sh stop-node N | start-node N   (a node crash, then its rejoin)
#
# Everything lives under $COOP_CLUSTER_DIR (default /tmp/coop-cluster); `up` writes
# $COOP_CLUSTER_DIR/env (sourceable). The system MariaDB on 3306 is not touched: each node
# has its own data directory, socket, pid file and ports, and reads only its own config.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE=${COOP_CLUSTER_DIR:-/tmp/coop-cluster}
BIN=${VENV_BIN:-$ROOT/.venv/bin}
NODES=(1 2 3)
ENTRY_PORT=8800
S3_PORT=8900
S3_BUCKET=coop-cluster
DB_NAME=coop_cluster
# The test suite's cluster mode (tests/conftest.py) empties its tables before every test:
# its own database, never the seeded one the app servers use.
TEST_DB_NAME=coop_cluster_test
REDIS_DB=14
# Two sync workers per app server: three servers and three database nodes share 2 cores.
APP_WORKERS=${COOP_CLUSTER_WORKERS:-2}

db_port() { echo $((3310 + $1)); }
gcomm_port() { echo $((4567 + 10 * ($1 - 1))); }   # 4567, 4577, 4587
ist_port() { echo $(($(gcomm_port "$1") + 1)); }    # 4568, 4578, 4588
sst_port() { echo $(($(gcomm_port "$1") + 2)); }    # 4569, 4579, 4589
app_port() { echo $((8800 + $1)); }
node_dir() { echo "$STATE/node$1"; }
sock() { echo "$(node_dir "$1")/mysqld.sock"; }

log() { printf '[cluster %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Root over the node's own socket (unix_socket authentication: we are root).
sql() { local n=$1; shift; mariadb --no-defaults -S "$(sock "$n")" -uroot -N -B -e "$*"; }
wsrep() { sql "$1" "SHOW GLOBAL STATUS LIKE '$2'" 2>/dev/null | cut -f2; }

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2; shift 2
  local end=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || die "timed out after ${limit}s waiting for $what"
    sleep 0.2
  done
}

node_ready() { [ "$(wsrep "$1" wsrep_ready)" = ON ] && [ "$(wsrep "$1" wsrep_local_state_comment)" = Synced ]; }
cluster_formed() {
  local n; for n in "${NODES[@]}"; do
    node_ready "$n" && [ "$(wsrep "$n" wsrep_cluster_size)" = 3 ] || return 1
  done
}
http_ok() { curl -fsS -o /dev/null --max-time 2 "$1"; }
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

render() {  # render TEMPLATE OUT KEY=VALUE...
  local template=$1 out=$2; shift 2
  local args=() kv
  for kv in "$@"; do args+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
  sed "${args[@]}" "$template" >"$out"
}

write_node_config() {
  local n=$1 dir addr="gcomm://" m
  dir=$(node_dir "$n")
  for m in "${NODES[@]}"; do addr+="127.0.0.1:$(gcomm_port "$m"),"; done
  mkdir -p "$dir/data"
  render "$ROOT/deploy/galera-node.cnf.in" "$dir/my.cnf" \
    N="$n" DATADIR="$dir/data" SOCKET="$(sock "$n")" PIDFILE="$dir/mysqld.pid" \
    LOGFILE="$dir/error.log" PORT="$(db_port "$n")" CLUSTER_ADDRESS="${addr%,}" \
    GCOMM_PORT="$(gcomm_port "$n")" IST_PORT="$(ist_port "$n")" SST_PORT="$(sst_port "$n")"
  # As root the joiner's rsync SST could not write its files: the node runs as mysql.
  chown -R mysql:mysql "$dir"
}

start_node() {  # start_node N [--wsrep-new-cluster]
  local n=$1; shift
  setsid /usr/sbin/mariadbd --defaults-file="$(node_dir "$n")/my.cnf" "$@" \
    </dev/null >>"$(node_dir "$n")/error.log" 2>&1 &
}

stop_pidfile() {  # stop_pidfile PIDFILE SECONDS: TERM, wait, then KILL
  local pidfile=$1 limit=$2 pid end
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile" 2>/dev/null) || return 0
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  end=$((SECONDS + limit))
  while kill -0 "$pid" 2>/dev/null; do
    if [ $SECONDS -ge $end ]; then kill -KILL "$pid" 2>/dev/null || true; break; fi
    sleep 0.2
  done
}

secret() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

app_env() {  # the environment of app server N (also used for the one-off flask commands)
  local n=$1
  echo "DATABASE_URL=mysql+pymysql://coop:$DB_PASSWORD@127.0.0.1:$(db_port "$n")/$DB_NAME"
  echo "SECRET_KEY=$SECRET_KEY"
  echo "JWT_SECRET=$JWT_SECRET"
  echo "FIELD_ENCRYPTION_KEY=$FIELD_ENCRYPTION_KEY"
  echo "WECHAT_SECRET=$WECHAT_SECRET"
  # Shared: in memory each process would count its own share of the login attempts.
  echo "RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/$REDIS_DB"
  echo "PUBLIC_BASE_URL=http://127.0.0.1:$ENTRY_PORT"
  echo "TRUSTED_PROXIES=1"
  # The console is served over plain http on loopback here.
  echo "CONSOLE_COOKIE_SECURE=0"
  # Attachments on shared S3 storage, not on one server's disk (coop/storage.py).
  echo "ATTACHMENT_STORE=s3"
  echo "S3_ENDPOINT_URL=http://127.0.0.1:$S3_PORT"
  echo "S3_BUCKET=$S3_BUCKET"
  echo "S3_REGION=us-east-1"
  echo "S3_ACCESS_KEY_ID=coop-cluster"
  echo "S3_SECRET_ACCESS_KEY=$S3_SECRET"
  echo "ATTACHMENT_DIR=$STATE/app$n/attachments"
}

load_secrets() {
  # shellcheck disable=SC1091
  . "$STATE/secrets"
}

everything_up() {
  [ -f "$STATE/env" ] || return 1
  local n
  for n in "${NODES[@]}"; do
    pid_alive "$(node_dir "$n")/mysqld.pid" || return 1
    pid_alive "$STATE/app$n/gunicorn.pid" || return 1
    http_ok "http://127.0.0.1:$(app_port "$n")/readyz" || return 1
  done
  cluster_formed && pid_alive "$STATE/nginx/nginx.pid" && pid_alive "$STATE/nginx/watch.pid" \
    && pid_alive "$STATE/s3/moto.pid" \
    && http_ok "http://127.0.0.1:$ENTRY_PORT/readyz"
}

cmd_up() {
  local started=$SECONDS n
  if everything_up; then
    log "already up ($STATE)"; return 0
  fi
  if [ -e "$STATE" ]; then
    log "a partial cluster is in $STATE: taking it down first"
    cmd_down
  fi
  for p in 3311 3312 3313 4567 4568 4569 4577 4578 4579 4587 4588 4589 \
           8800 8801 8802 8803 $S3_PORT; do
    port_free "$p" || die "127.0.0.1:$p is in use by something else"
  done
  redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || die "Redis is not answering on 127.0.0.1:6379"
  [ -x "$BIN/gunicorn" ] || die "no $BIN/gunicorn: run make dev-deps"

  mkdir -p "$STATE"
  chmod 755 "$STATE"
  touch "$STATE/.coop-cluster"   # `down` removes only a directory that carries this mark
  umask 077
  cat >"$STATE/secrets" <<EOF
DB_PASSWORD=$(secret)
SECRET_KEY=$(secret)
JWT_SECRET=$(secret)
FIELD_ENCRYPTION_KEY=$(secret)
WECHAT_SECRET=$(secret)
S3_SECRET=$(secret)
EOF
  umask 022
  load_secrets
  # A new cluster starts with no login attempts counted.
  redis-cli -h 127.0.0.1 -n "$REDIS_DB" flushdb >/dev/null

  # The local S3 starts while the databases do.
  mkdir -p "$STATE/s3"
  setsid "$BIN/moto_server" -H 127.0.0.1 -p "$S3_PORT" </dev/null >"$STATE/s3/moto.log" 2>&1 &
  echo $! >"$STATE/s3/moto.pid"

  for n in "${NODES[@]}"; do write_node_config "$n"; done
  log "node 1: new data directory, bootstrapping the cluster"
  mariadb-install-db --no-defaults --user=mysql --datadir="$(node_dir 1)/data" \
    --auth-root-authentication-method=socket --skip-test-db \
    >"$(node_dir 1)/install.log" 2>&1 || die "mariadb-install-db failed: $(node_dir 1)/install.log"
  start_node 1 --wsrep-new-cluster
  wait_for 60 "node 1 to be ready" node_ready 1
  # Created before the others join: their state transfer copies it.
  sql 1 "CREATE DATABASE $DB_NAME CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
         CREATE DATABASE $TEST_DB_NAME CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
         CREATE USER 'coop'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
         GRANT ALL PRIVILEGES ON *.* TO 'coop'@'127.0.0.1';"

  # Schema and demo county once, on node 1 before the others join (the state transfer then
  # carries them). The demo loader refuses production (known demo passwords), so it runs
  # as development, with the keys the production app servers use.
  log "migrations and the demo county on node 1"
  (
    cd "$ROOT"
    set -a; eval "$(app_env 1)"; set +a
    export COOP_ENV=development FLASK_APP=wsgi
    "$BIN/flask" db upgrade >"$STATE/migrate.log" 2>&1 || die "flask db upgrade failed: $STATE/migrate.log"
    "$BIN/flask" seed demo --if-empty >"$STATE/seed.log" 2>&1 || die "flask seed demo failed: $STATE/seed.log"
  )

  log "nodes 2 and 3 join (rsync state transfer)"
  start_node 2
  start_node 3

  # The app servers start while the joiners copy: imports take a while and open no
  # connection; /readyz below waits for the database behind each.
  for n in "${NODES[@]}"; do
    mkdir -p "$STATE/app$n/attachments"
    (
      cd "$ROOT"
      set -a; eval "$(app_env "$n")"; set +a
      export COOP_ENV=production GUNICORN_WORKERS="$APP_WORKERS" \
        GUNICORN_BIND="127.0.0.1:$(app_port "$n")" \
        GUNICORN_ACCESS_LOG="$STATE/app$n/access.log"
      "$BIN/gunicorn" -c gunicorn.conf.py --daemon --capture-output --pid "$STATE/app$n/gunicorn.pid" \
        --error-logfile "$STATE/app$n/error.log" wsgi:app
    ) || die "app server $n did not start: $STATE/app$n/error.log"
  done

  mkdir -p "$STATE/nginx/tmp"
  local ports=()
  for n in "${NODES[@]}"; do ports+=("$(app_port "$n")"); done
  # Every server listed as up; entry-watch.sh marks the unready ones down from now on.
  for port in "${ports[@]}"; do
    echo "server 127.0.0.1:$port max_fails=2 fail_timeout=5s;"
  done >"$STATE/nginx/upstream.conf"
  render "$ROOT/deploy/nginx.conf.in" "$STATE/nginx/nginx.conf" \
    STATE="$STATE" ENTRY_PORT="$ENTRY_PORT"
  chown -R nobody "$STATE/nginx/tmp" 2>/dev/null || true
  nginx -e "$STATE/nginx/error.log" -p "$STATE/nginx" -c "$STATE/nginx/nginx.conf" \
    || die "nginx did not start: $STATE/nginx/error.log"
  setsid "$ROOT/deploy/entry-watch.sh" "$STATE" "${ports[@]}" </dev/null >/dev/null 2>&1 &
  echo $! >"$STATE/nginx/watch.pid"

  wait_for 30 "the local S3 on :$S3_PORT" http_ok "http://127.0.0.1:$S3_PORT/moto-api/"
  curl -fsS -o /dev/null -X PUT "http://127.0.0.1:$S3_PORT/$S3_BUCKET" \
    || die "could not create bucket $S3_BUCKET"

  wait_for 120 "three synced nodes (wsrep_cluster_size=3, wsrep_ready=ON)" cluster_formed
  for n in "${NODES[@]}"; do
    wait_for 60 "app server $n" http_ok "http://127.0.0.1:$(app_port "$n")/readyz"
  done
  wait_for 10 "the entry point :$ENTRY_PORT" http_ok "http://127.0.0.1:$ENTRY_PORT/readyz"

  local apps="" urls="" test_urls=""
  for n in "${NODES[@]}"; do
    apps+="http://127.0.0.1:$(app_port "$n") "
    urls+="mysql+pymysql://coop:$DB_PASSWORD@127.0.0.1:$(db_port "$n")/$DB_NAME "
    test_urls+="mysql+pymysql://coop:$DB_PASSWORD@127.0.0.1:$(db_port "$n")/$TEST_DB_NAME "
  done
  cat >"$STATE/env" <<EOF
# Written by deploy/cluster.sh up. Source it: . $STATE/env
export COOP_CLUSTER_DIR='$STATE'
export COOP_CLUSTER_ENTRY='http://127.0.0.1:$ENTRY_PORT'
export COOP_CLUSTER_APPS='${apps% }'
export COOP_CLUSTER_DB_URLS='${urls% }'
export COOP_CLUSTER_TEST_DB_URLS='${test_urls% }'
export JWT_SECRET='$JWT_SECRET'
export FIELD_ENCRYPTION_KEY='$FIELD_ENCRYPTION_KEY'
export SECRET_KEY='$SECRET_KEY'
export COOP_CLUSTER_REDIS='redis://127.0.0.1:6379/$REDIS_DB'
export COOP_CLUSTER_S3='http://127.0.0.1:$S3_PORT'
export COOP_CLUSTER_S3_BUCKET='$S3_BUCKET'
EOF
  chmod 600 "$STATE/env"
  log "up in $((SECONDS - started)) s: entry http://127.0.0.1:$ENTRY_PORT, env in $STATE/env"
}

cmd_down() {
  local n
  if [ -e "$STATE" ] && [ ! -e "$STATE/.coop-cluster" ]; then
    die "$STATE is not a cluster state directory; not removing it"
  fi
  stop_pidfile "$STATE/nginx/watch.pid" 5
  stop_pidfile "$STATE/nginx/nginx.pid" 10
  for n in "${NODES[@]}"; do stop_pidfile "$STATE/app$n/gunicorn.pid" 15 & done
  stop_pidfile "$STATE/s3/moto.pid" 10 &
  wait
  # The nodes' data is thrown away below, so no clean shutdown is owed: a clean Galera
  # leave (state saved, gcache closed, the group told) costs seconds per node.
  for n in "${NODES[@]}"; do
    pid_alive "$(node_dir "$n")/mysqld.pid" && kill -KILL "$(cat "$(node_dir "$n")/mysqld.pid")"
    while pid_alive "$(node_dir "$n")/mysqld.pid"; do sleep 0.1; done
  done
  redis-cli -h 127.0.0.1 -n "$REDIS_DB" flushdb >/dev/null 2>&1 || true
  rm -rf "$STATE"
  log "down"
}

cmd_status() {
  local n ok=0
  [ -d "$STATE" ] || { echo "no cluster in $STATE"; return 1; }
  for n in "${NODES[@]}"; do
    if pid_alive "$(node_dir "$n")/mysqld.pid"; then
      printf 'node %s  127.0.0.1:%s  %s, cluster size %s, ready %s\n' "$n" "$(db_port "$n")" \
        "$(wsrep "$n" wsrep_local_state_comment)" "$(wsrep "$n" wsrep_cluster_size)" \
        "$(wsrep "$n" wsrep_ready)"
    else
      printf 'node %s  127.0.0.1:%s  DOWN\n' "$n" "$(db_port "$n")"; ok=1
    fi
  done
  for n in "${NODES[@]}"; do
    if http_ok "http://127.0.0.1:$(app_port "$n")/readyz"; then
      echo "app  $n  127.0.0.1:$(app_port "$n")  ready"
    else
      echo "app  $n  127.0.0.1:$(app_port "$n")  NOT READY"; ok=1
    fi
  done
  if http_ok "http://127.0.0.1:$ENTRY_PORT/readyz"; then echo "entry    127.0.0.1:$ENTRY_PORT  ready"
  else echo "entry    127.0.0.1:$ENTRY_PORT  NOT READY"; ok=1; fi
  if pid_alive "$STATE/s3/moto.pid"; then echo "s3       127.0.0.1:$S3_PORT  up"
  else echo "s3       127.0.0.1:$S3_PORT  DOWN"; ok=1; fi
  cluster_formed || ok=1
  return $ok
}

cmd_stop_node() {  # a crash: SIGKILL, no clean shutdown
  local n=${1:?node number}
  pid_alive "$(node_dir "$n")/mysqld.pid" || die "node $n is not running"
  kill -KILL "$(cat "$(node_dir "$n")/mysqld.pid")"
  log "node $n killed"
}

cmd_start_node() {  # rejoin: IST from a donor's gcache if it can, else a full rsync SST
  local n=${1:?node number}
  pid_alive "$(node_dir "$n")/mysqld.pid" && die "node $n is already running"
  rm -f "$(node_dir "$n")/mysqld.pid"
  # After a crash grastate.dat says seqno -1: the node does not know how far it got and
  # would ask for a full copy (SST). --wsrep-recover reads the position from InnoDB (what
  # the packaged galera_recovery does); started from it, the node asks only for the write
  # sets it missed (IST, from a donor's gcache).
  local position=""
  if grep -q '^seqno: *-1' "$(node_dir "$n")/data/grastate.dat" 2>/dev/null; then
    /usr/sbin/mariadbd --defaults-file="$(node_dir "$n")/my.cnf" --wsrep-recover \
      --log-error="$(node_dir "$n")/recover.log" >/dev/null 2>&1 || true
    position=$(sed -n 's/.*WSREP: Recovered position: *//p' "$(node_dir "$n")/recover.log" | tail -1)
  fi
  if [ -n "$position" ]; then
    log "node $n: recovered position $position"
    start_node "$n" --wsrep-start-position="$position"
  else
    start_node "$n"
  fi
  wait_for 120 "node $n to rejoin" cluster_formed
  log "node $n rejoined"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  stop-node) cmd_stop_node "${2:-}" ;;
  start-node) cmd_start_node "${2:-}" ;;
  *) echo "usage: $0 up|down|status|stop-node N|start-node N" >&2; exit 2 ;;
esac
