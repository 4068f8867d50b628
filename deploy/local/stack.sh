#!/usr/bin/env bash
# CreatorFlow local stack: the embedded Kafka-protocol broker, ClickHouse and PostgreSQL,
# each our own instance with its own config, ports and data under one directory.
#
#   deploy/local/stack.sh up|down|status [broker|clickhouse|postgres ...]
#
# Default: all three (started broker, clickhouse, postgres; stopped in reverse).
# Data:    ${CREATORFLOW_STACK_DIR:-<repo>/.data}/{kafka,clickhouse,postgres,logs,run}
# Ports:   broker 19092 · ClickHouse 19000 (native), 18123 (HTTP), 19009 (interserver) ·
#          PostgreSQL 15432 (see docs: CONTRACTS "Local stack").
# Env:     CREATORFLOW_STACK_DIR, CREATORFLOW_BROKER_FLAGS (extra flags for `creatorflow broker`).
#
# As root it installs missing Debian packages (clickhouse-server, clickhouse-client,
# postgresql, kcat) and runs ClickHouse / PostgreSQL as the `clickhouse` / `postgres`
# users; as any other user it expects the packages to be there and runs everything as
# that user. It never starts the distributions' own system services.
# Exit status: 0 ok, 1 failure, 2 usage, 3 `status` found a requested service not running.
set -euo pipefail
umask 022

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
HERE=$ROOT/deploy/local
DATA=${CREATORFLOW_STACK_DIR:-$ROOT/.data}
[[ $DATA == /* ]] || DATA=$PWD/$DATA
LOGS=$DATA/logs
RUN=$DATA/run
BROKER_BIN=$ROOT/bin/creatorflow
ME=$(id -un)
CUR=""   # service being worked on, for error messages
APT_UPDATED=""

SERVICES=(broker clickhouse postgres)   # start order; stop order is the reverse

# --- the service table --------------------------------------------------------------
# Each service also has four functions: prepare_<svc> (dirs, config, initdb),
# launch_<svc> (start in the background), ready_<svc> (is it answering?) and
# init_<svc> (idempotent databases / roles once it answers).
declare -A ADDR=(
  [broker]=127.0.0.1:19092
  [clickhouse]="127.0.0.1:19000 (http :18123)"
  [postgres]=127.0.0.1:15432
)
declare -A PORTS=([broker]=19092 [clickhouse]="19000 18123 19009" [postgres]=15432)
declare -A PACKAGES=([broker]=kcat [clickhouse]="clickhouse-server clickhouse-client" [postgres]=postgresql)
declare -A SVC_DATA=([broker]=$DATA/kafka [clickhouse]=$DATA/clickhouse [postgres]=$DATA/postgres)
declare -A PIDFILE=(                       # broker: written by us; the others by the server itself
  [broker]=$RUN/broker.pid
  [clickhouse]=$RUN/clickhouse/clickhouse-server.pid
  [postgres]=$DATA/postgres/postmaster.pid
)
declare -A LOGFILE=(
  [broker]=$LOGS/broker.log
  [clickhouse]=$LOGS/clickhouse/clickhouse-server.log
  [postgres]=$LOGS/postgres.log
)
declare -A COMM=([broker]=creatorflow [clickhouse]='clickhouse*' [postgres]=postgres)  # /proc/PID/comm
declare -A STOP_SIGNAL=([broker]=TERM [clickhouse]=TERM [postgres]=INT)   # INT = postgres "fast" shutdown
declare -A STOP_WAIT=([broker]=30 [clickhouse]=60 [postgres]=60)         # seconds before SIGKILL
declare -A START_WAIT=([broker]=30 [clickhouse]=60 [postgres]=60)        # seconds to become ready
declare -A RUN_AS=([broker]=$ME [clickhouse]=$ME [postgres]=$ME)
if [[ $EUID -eq 0 ]]; then RUN_AS[clickhouse]=clickhouse RUN_AS[postgres]=postgres; fi

# --- output ---------------------------------------------------------------------------
log()  { printf '[stack] %s\n' "$*"; }
err()  { printf '[stack] %s\n' "$*" >&2; }
die()  { err "ERROR${CUR:+ ($CUR)}: $*"; exit 1; }

usage() {
  err "usage: $0 up|down|status [broker|clickhouse|postgres ...]"
  exit "${1:-2}"
}

# Print the last lines of a service's log and fail.
fail_start() {
  local svc=$1; shift
  err "ERROR ($svc): $*"
  if [[ -s ${LOGFILE[$svc]} ]]; then
    err "last 30 lines of ${LOGFILE[$svc]}:"
    tail -n 30 "${LOGFILE[$svc]}" | sed 's/^/    /' >&2
  fi
  exit 1
}

# --- helpers --------------------------------------------------------------------------
# Run a command as USER (directly when that is us), from / so servers don't complain
# about an unreadable working directory.
as_user() {
  local user=$1; shift
  if [[ $user == "$ME" ]]; then (cd / && "$@"); else (cd / && runuser -u "$user" -- "$@"); fi
}

# First of NAME on PATH, /usr/sbin or /usr/bin (non-root PATHs lack /usr/sbin).
find_bin() {
  local name=$1 dir
  command -v "$name" 2>/dev/null && return 0
  for dir in /usr/sbin /usr/bin; do
    [[ -x $dir/$name ]] && { echo "$dir/$name"; return 0; }
  done
  return 1
}

# Create directories owned by USER (chown only when running as root and it differs).
ensure_dir() {
  local user=$1 mode=$2 dir; shift 2
  for dir in "$@"; do
    mkdir -p "$dir" 2>/dev/null || die "cannot create $dir (is a parent owned by another user?)"
    if [[ $EUID -eq 0 && $(stat -c %U "$dir") != "$user" ]]; then chown -R "$user:" "$dir"; fi
    chmod "$mode" "$dir" 2>/dev/null || true
    as_user "$user" test -w "$dir" || die "$dir is not writable by $user (created by another user? chown it or remove it)"
  done
}

# Fail unless USER can reach PATH: every existing ancestor must be searchable (x) by it.
check_reachable() {
  local user=$1 path=$2 dir="" part
  local -a parts
  [[ $user == "$ME" ]] && return 0
  IFS=/ read -r -a parts <<<"${path#/}"
  for part in "${parts[@]}"; do
    [[ -n $part ]] || continue
    dir+=/$part
    [[ -d $dir ]] || break
    as_user "$user" test -x "$dir" ||
      die "user $user cannot traverse $dir ($(stat -c '%A %U:%G' "$dir")): chmod o+x $dir, or set CREATORFLOW_STACK_DIR to a directory it can reach"
  done
}

# Render TEMPLATE to DEST replacing @KEY@ with VALUE for each KEY=VALUE (values XML-escaped).
render() {
  local src=$1 dest=$2 text kv key val; shift 2
  text=$(<"$src")
  for kv in "$@"; do
    key=${kv%%=*} val=${kv#*=}
    val=${val//&/&amp;} val=${val//</&lt;} val=${val//>/&gt;}
    text=${text//"@$key@"/"$val"}
  done
  printf '%s\n' "$text" >"$dest"
}

# Is PID a live process (zombies count as gone)?
pid_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != [ZX] ]]
}

# PID of a running service (pid file names a live process of the right program), else fail.
live_pid() {
  local svc=$1 pid comm
  [[ -r ${PIDFILE[$svc]} ]] || return 1
  pid=$(head -n 1 "${PIDFILE[$svc]}" 2>/dev/null) || return 1   # ClickHouse writes no newline
  [[ $pid =~ ^[0-9]+$ ]] && pid_alive "$pid" || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  # shellcheck disable=SC2053  # COMM holds a glob on purpose
  [[ $comm == ${COMM[$svc]} ]] || return 1
  echo "$pid"
}

clean_stale_pidfile() {
  local svc=$1
  if [[ -e ${PIDFILE[$svc]} ]] && ! live_pid "$svc" >/dev/null; then
    rm -f "${PIDFILE[$svc]}"
    log "$svc: removed stale pid file ${PIDFILE[$svc]}"
  fi
}

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# Fail if any of the service's ports is already listened on (by anyone: not ours, since
# we only get here when our own instance is not running).
check_ports() {
  local svc=$1 port line pid who
  for port in ${PORTS[$svc]}; do
    if command -v ss >/dev/null; then
      line=$(ss -Hltnp "sport = :$port" 2>/dev/null | head -n 1)
    else
      line=$(port_open "$port" && echo "(install iproute2 to see which process)") || line=""
    fi
    [[ -n $line ]] || continue
    pid=$(grep -o 'pid=[0-9]*' <<<"$line" | head -n 1 | cut -d= -f2) || true
    if [[ -n $pid ]]; then
      who="pid $pid: $(ps -o args= -p "$pid" 2>/dev/null | cut -c1-120)"
    else
      who="another process ($(tr -s ' ' <<<"$line" | cut -c1-120); run as root or 'ss -ltnp' to see which)"
    fi
    die "port $port is taken by $who"
  done
}

# Wait until the service answers; fail with its log tail if it dies or times out.
wait_ready() {
  local svc=$1 deadline=$((SECONDS + START_WAIT[$1])) started=$SECONDS seen=""
  while ! "ready_$svc"; do
    if live_pid "$svc" >/dev/null; then
      seen=1
    elif [[ -n $seen ]] || ((SECONDS - started >= 5)); then
      clean_stale_pidfile "$svc" >/dev/null
      fail_start "$svc" "exited during startup"
    fi
    ((SECONDS < deadline)) || fail_start "$svc" "not answering after ${START_WAIT[$svc]}s (${ADDR[$svc]})"
    sleep 0.5
  done
}

# Signal PID and wait for it to exit; SIGKILL (loudly) only if it outlives STOP_WAIT.
stop_pid() {
  local svc=$1 pid=$2 deadline=$((SECONDS + STOP_WAIT[$1]))
  if ! kill "-${STOP_SIGNAL[$svc]}" "$pid" 2>/dev/null; then
    pid_alive "$pid" || return 0
    die "cannot signal pid $pid (owned by $(stat -c %U "/proc/$pid")): run as root"
  fi
  while pid_alive "$pid"; do
    if ((SECONDS >= deadline)); then
      err "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
      err "!!! WARNING ($svc): pid $pid ignored SIG${STOP_SIGNAL[$svc]} for ${STOP_WAIT[$svc]}s: sending SIGKILL."
      err "!!! Data in ${SVC_DATA[$svc]} may not have been flushed cleanly."
      err "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 1
      return 0
    fi
    sleep 0.2
  done
}

# Install (as root) or demand the Debian packages the services need. Runs apt-get update
# at most once, and keeps the packages' own services from starting while installing.
ensure_packages() {
  local pkg missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  if [[ $EUID -ne 0 ]] || ! command -v apt-get >/dev/null; then
    for pkg in "${missing[@]}"; do err "package $pkg missing; run as root or: apt-get install $pkg"; done
    die "missing packages: ${missing[*]}"
  fi
  log "${CUR:+$CUR: }installing ${missing[*]} (apt-get)"
  local policy=/usr/sbin/policy-rc.d own_policy=""
  if [[ ! -e $policy ]]; then   # "exit 101" = invoke-rc.d/deb-systemd-invoke must not start services
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  local apt_log=$LOGS/apt.log
  if [[ -z $APT_UPDATED ]]; then
    apt-get update >>"$apt_log" 2>&1 || { tail -n 30 "$apt_log" >&2; die "apt-get update failed (log: $apt_log)"; }
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >>"$apt_log" 2>&1 ||
    { tail -n 30 "$apt_log" >&2; die "apt-get install ${missing[*]} failed (log: $apt_log)"; }
  log "${CUR:+$CUR: }installed ${missing[*]}"
  if [[ -n $own_policy ]]; then rm -f "$policy"; trap - EXIT; fi
}

# --- broker: our own binary (franz-go kfake) -----------------------------------------
prepare_broker() {
  [[ -x $BROKER_BIN ]] || die "$BROKER_BIN not found: run make build first"
  ensure_dir "$ME" 755 "${SVC_DATA[broker]}"
}

launch_broker() {
  local -a extra=()
  read -r -a extra <<<"${CREATORFLOW_BROKER_FLAGS:-}"
  printf '=== %s: %s broker --addr %s --data-dir %s %s\n' "$(date -Is)" "$BROKER_BIN" \
    "${ADDR[broker]}" "${SVC_DATA[broker]}" "${extra[*]}" >>"${LOGFILE[broker]}"
  setsid nohup "$BROKER_BIN" broker --addr "${ADDR[broker]}" --data-dir "${SVC_DATA[broker]}" \
    "${extra[@]}" >>"${LOGFILE[broker]}" 2>&1 </dev/null &
  echo $! >"${PIDFILE[broker]}"
}

ready_broker() {
  if command -v kcat >/dev/null; then
    timeout 10 kcat -b "${ADDR[broker]}" -L -m 5 >/dev/null 2>&1
  else
    port_open "${ADDR[broker]##*:}"
  fi
}

init_broker() { :; }   # topics are created by `creatorflow topics`

# --- ClickHouse: Debian's clickhouse-server 18.16 with our config --------------------
CH_CONF=$DATA/clickhouse/config

prepare_clickhouse() {
  local user=${RUN_AS[clickhouse]}
  check_reachable "$user" "$DATA"
  ensure_dir "$user" 755 "${SVC_DATA[clickhouse]}" "$CH_CONF" "$LOGS/clickhouse" "$RUN/clickhouse"
  render "$HERE/clickhouse/config.xml" "$CH_CONF/config.xml" \
    "CH_DIR=${SVC_DATA[clickhouse]}" "CONF_DIR=$CH_CONF" "LOG_DIR=$LOGS/clickhouse"
  render "$HERE/clickhouse/users.xml" "$CH_CONF/users.xml"
  [[ $EUID -ne 0 ]] || chown "$user:" "$CH_CONF"/*.xml
}

launch_clickhouse() {
  local bin
  bin=$(find_bin clickhouse-server) || die "clickhouse-server binary not found"
  # 18.16 daemonizes itself, writes (and on exit removes) the pid file, and sends its
  # stdout/stderr to stdout.log/stderr.log next to its log.
  as_user "${RUN_AS[clickhouse]}" "$bin" --config-file="$CH_CONF/config.xml" \
    --daemon --pid-file="${PIDFILE[clickhouse]}" || fail_start clickhouse "clickhouse-server --daemon failed"
}

ch_client() { timeout 10 clickhouse-client --host 127.0.0.1 --port 19000 "$@"; }
ready_clickhouse() { ch_client -q 'SELECT 1' >/dev/null 2>&1; }
init_clickhouse() { ch_client -q 'CREATE DATABASE IF NOT EXISTS creatorflow' || die "CREATE DATABASE creatorflow failed"; }

# --- PostgreSQL: Debian's postgresql, our own cluster --------------------------------
PG_SOCKET_DIR=$RUN/postgres
PGBIN=""

# Binaries of the cluster's version if it exists, else of the newest installed version.
find_pgbin() {
  local version
  if [[ -s ${SVC_DATA[postgres]}/PG_VERSION ]]; then
    version=$(<"${SVC_DATA[postgres]}/PG_VERSION")
    [[ -x /usr/lib/postgresql/$version/bin/postgres ]] ||
      die "${SVC_DATA[postgres]} was created by PostgreSQL $version, which is not installed (apt-get install postgresql-$version)"
  else
    version=$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/initdb' 2>/dev/null |
      cut -d/ -f5 | sort -V | tail -n 1)
    [[ -n $version ]] || die "no PostgreSQL server in /usr/lib/postgresql (apt-get install postgresql)"
  fi
  PGBIN=/usr/lib/postgresql/$version/bin
}

prepare_postgres() {
  local user=${RUN_AS[postgres]} dir=${SVC_DATA[postgres]}
  find_pgbin
  check_reachable "$user" "$DATA"
  ensure_dir "$user" 755 "$PG_SOCKET_DIR"
  ensure_dir "$user" 700 "$dir"
  touch "${LOGFILE[postgres]}"
  [[ $EUID -ne 0 ]] || chown "$user:" "${LOGFILE[postgres]}"
  if [[ ! -s $dir/PG_VERSION ]]; then
    log "postgres: initdb $dir ($PGBIN)"
    as_user "$user" "$PGBIN/initdb" -D "$dir" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 >>"${LOGFILE[postgres]}" 2>&1 ||
      fail_start postgres "initdb failed"
  fi
  render "$HERE/postgres/postgresql.conf" "$dir/creatorflow.conf" "SOCKET_DIR=$PG_SOCKET_DIR"
  [[ $EUID -ne 0 ]] || chown "$user:" "$dir/creatorflow.conf"
  grep -qx "include 'creatorflow.conf'" "$dir/postgresql.conf" ||
    printf "\n# CreatorFlow local stack (deploy/local/postgres/postgresql.conf)\ninclude 'creatorflow.conf'\n" >>"$dir/postgresql.conf"
}

launch_postgres() {
  as_user "${RUN_AS[postgres]}" "$PGBIN/pg_ctl" start -D "${SVC_DATA[postgres]}" -w -t "${START_WAIT[postgres]}" \
    -s -l "${LOGFILE[postgres]}" || fail_start postgres "pg_ctl start failed"
}

ready_postgres() {
  [[ -n $PGBIN ]] || find_pgbin
  "$PGBIN/pg_isready" -q -h 127.0.0.1 -p 15432 -t 5
}

init_postgres() {
  "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p 15432 -U postgres -d postgres <<'SQL' >/dev/null ||
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'creatorflow') THEN
    CREATE ROLE creatorflow LOGIN CREATEDB PASSWORD 'creatorflow';
  ELSE
    ALTER ROLE creatorflow LOGIN CREATEDB PASSWORD 'creatorflow';
  END IF;
END $$;
SELECT 'CREATE DATABASE creatorflow OWNER creatorflow'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'creatorflow') \gexec
SQL
    die "could not create role/database creatorflow"
  "$PGBIN/psql" -X -qAt "postgres://creatorflow:creatorflow@127.0.0.1:15432/creatorflow" -c 'select 1' >/dev/null ||
    die "cannot log in as creatorflow at 127.0.0.1:15432"
}

# --- actions --------------------------------------------------------------------------
up_service() {
  local svc=$1 pid
  CUR=$svc
  if pid=$(live_pid "$svc"); then
    if ! "ready_$svc"; then
      log "$svc: pid $pid is up but not answering yet, waiting"
      wait_ready "$svc"
    fi
    "init_$svc"
    log "$svc already running at ${ADDR[$svc]} (pid $pid)"
    CUR=""
    return 0
  fi
  clean_stale_pidfile "$svc"
  "prepare_$svc"
  check_ports "$svc"
  log "starting $svc at ${ADDR[$svc]} (data ${SVC_DATA[$svc]}, log ${LOGFILE[$svc]})"
  "launch_$svc"
  wait_ready "$svc"
  "init_$svc"
  log "$svc up at ${ADDR[$svc]} (pid $(live_pid "$svc" || echo '?'))"
  CUR=""
}

down_service() {
  local svc=$1 pid
  CUR=$svc
  if pid=$(live_pid "$svc"); then
    log "stopping $svc (pid $pid, SIG${STOP_SIGNAL[$svc]}, waiting up to ${STOP_WAIT[$svc]}s)"
    stop_pid "$svc" "$pid"
    rm -f "${PIDFILE[$svc]}"
    log "$svc stopped"
  else
    clean_stale_pidfile "$svc"
    log "$svc not running"
  fi
  CUR=""
}

# One line per service; returns non-zero unless it is running and answering.
status_service() {
  local svc=$1 pid state
  if pid=$(live_pid "$svc"); then
    if "ready_$svc"; then state=running; else state=unresponsive; fi
  else
    pid=- state=stopped
  fi
  printf '[stack] %-10s %-12s pid %-8s %-40s %s\n' "$svc" "$state" "$pid" "${ADDR[$svc]}" "${SVC_DATA[$svc]}"
  [[ $state == running ]]
}

main() {
  (($# >= 1)) || usage
  local action=$1 svc arg rc=0 i
  shift
  case $action in
    up | down | status) ;;
    -h | --help | help) usage 0 ;;
    *) usage ;;
  esac
  # Requested services, in canonical order.
  local -a selected=()
  for arg in "$@"; do
    [[ -v "ADDR[$arg]" ]] || { err "unknown service '$arg'"; usage; }
  done
  for svc in "${SERVICES[@]}"; do
    if (($# == 0)) || [[ " $* " == *" $svc "* ]]; then selected+=("$svc"); fi
  done

  case $action in
    up)
      mkdir -p "$LOGS" "$RUN" || die "cannot create $DATA"
      [[ -e $DATA/.gitignore ]] || echo '*' >"$DATA/.gitignore"   # keep the data out of git
      for svc in "${selected[@]}"; do   # all packages first: fail before starting anything
        CUR=$svc
        # shellcheck disable=SC2086  # word splitting wanted
        ensure_packages ${PACKAGES[$svc]}
      done
      CUR=""
      for svc in "${selected[@]}"; do up_service "$svc"; done
      ;;
    down)
      for ((i = ${#selected[@]} - 1; i >= 0; i--)); do down_service "${selected[i]}"; done
      ;;
    status)
      for svc in "${selected[@]}"; do status_service "$svc" || rc=3; done
      return "$rc"
      ;;
  esac
}

main "$@"
