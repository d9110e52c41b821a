#!/usr/bin/env bash
# The entry point's active health check (deploy/cluster.sh starts it beside nginx).
#
# nginx's own health is passive: it takes a server out only when it cannot connect to it
# or gets no answer. An app server whose database node has died still answers — a quick,
# clean 503 to every request — so nginx would keep sending it a third of the traffic, and
# counting 503s instead would also take every server out at once whenever WeChat or the
# file store is unreachable (their 503s are the same on every server). So this loop asks
# each app server's /readyz (the database answers and is migrated, coop/health.py) every
# second, and when the set of ready servers changes it rewrites the upstream list, marking
# the others `down`, and reloads nginx (in-flight requests finish on the old workers). If
# none is ready, none is marked: nginx then answers what the servers answer.
#
#   deploy/entry-watch.sh STATE_DIR APP_PORT...
set -uo pipefail
STATE=$1; shift
PORTS=("$@")
UPSTREAM="$STATE/nginx/upstream.conf"
last=""

render() {  # render "up-ports" → the upstream server lines
  local port mark all_down=1
  for port in "${PORTS[@]}"; do [[ " $1 " == *" $port "* ]] && all_down=0; done
  for port in "${PORTS[@]}"; do
    mark=""
    [[ $all_down == 0 && " $1 " != *" $port "* ]] && mark=" down"
    echo "server 127.0.0.1:$port max_fails=2 fail_timeout=5s$mark;"
  done
}

while :; do
  ready=""
  for port in "${PORTS[@]}"; do
    curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$port/readyz" 2>/dev/null \
      && ready+="$port "
  done
  ready=${ready% }
  if [[ "$ready" != "$last" ]]; then
    render "$ready" >"$UPSTREAM.tmp" && mv "$UPSTREAM.tmp" "$UPSTREAM"
    nginx -p "$STATE/nginx" -c "$STATE/nginx/nginx.conf" -s reload 2>>"$STATE/nginx/error.log" \
      && printf '%s ready: %s\n' "$(date +%T)" "${ready:-none}" >>"$STATE/nginx/watch.log"
    last=$ready
  fi
  sleep 1
done
