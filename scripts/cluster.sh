#!/usr/bin/env bash
# A local chat cluster without Docker: MariaDB (Debian's MySQL; or PostgreSQL), Redis, two chat replicas
# and nginx in front of them, the same topology as docker-compose.yml, run from Debian packages.
#
#   scripts/cluster.sh up [--db mysql|postgres|galera]  start whatever is not running yet, wait until it is ready
#                                                (default mysql: MariaDB, the card's store; galera: three MariaDB
#                                                Galera nodes on 127.0.0.2-4, the replicas naming all three in
#                                                failover order; `up` again brings back a node that died)
#   scripts/cluster.sh up --redis cluster   the same on a Redis Cluster (3 masters, 3 replicas) instead of one Redis
#                                           (options combine: up --db postgres --redis cluster)
#   scripts/cluster.sh status          what runs, on which pid and port, and both replicas' /readyz
#   scripts/cluster.sh down [--purge]  stop what `up` started; --purge also deletes data and logs
#
# Everything (data, logs, pid files, the published server, the generated nginx config) lives in .cluster/
# at the repository root. nginx serves chat over TCP on 8000 and the web client with chat over WebSocket (/ws) on
# 8080, as in docker-compose.yml. Ports, all on 127.0.0.1, can be moved with environment variables:
#   CHAT_NGINX_PORT (8000)  CHAT_NGINX_HTTP_PORT (8080)  CHAT_PORT_1 (6000)  CHAT_HTTP_PORT_1 (8081)  CHAT_PORT_2 (6002)
#   CHAT_HTTP_PORT_2 (8082)  CHAT_MYSQL_PORT (3307)  CHAT_PG_PORT (5433)  CHAT_REDIS_PORT (6380)
#   CHAT_REDIS_CLUSTER_PORT (6391: the cluster's six nodes take 6391-6396)
# CHAT_NGINX_CONN_PER_ADDRESS (200): chat connections (and WebSockets) nginx accepts at once from one client address;
# a load test from one machine lifts it (scripts/bench.sh does), together with the replicas' Chat__MaxConnectionsPerAddress.
#   CHAT_GALERA_PORT (3307: the port of each Galera node, on 127.0.0.2, .3 and .4; Galera's own 4567, 4568, 4444 too)
# The databases and Redis get non-default ports so that a system-wide instance on 3306/5432/6379 does not clash.
# Chat__* and ConnectionStrings__* variables in the caller's environment reach both replicas (as .NET settings), e.g.
#   Chat__Login__Multiple=allow scripts/cluster.sh up   (several sessions per user; a running replica keeps its own)
# except the ones this script sets itself: the store, Redis, the replica id, addresses and ports.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="$repo_root/.cluster"

nginx_port="${CHAT_NGINX_PORT:-8000}"
nginx_http_port="${CHAT_NGINX_HTTP_PORT:-8080}"
chat_port_1="${CHAT_PORT_1:-6000}"
http_port_1="${CHAT_HTTP_PORT_1:-8081}"
chat_port_2="${CHAT_PORT_2:-6002}"
http_port_2="${CHAT_HTTP_PORT_2:-8082}"
pg_port="${CHAT_PG_PORT:-5433}"
mysql_port="${CHAT_MYSQL_PORT:-3307}"
redis_port="${CHAT_REDIS_PORT:-6380}"
redis_cluster_port="${CHAT_REDIS_CLUSTER_PORT:-6391}"
conn_per_address="${CHAT_NGINX_CONN_PER_ADDRESS:-200}"
[[ "$conn_per_address" =~ ^[1-9][0-9]*$ ]] && ((conn_per_address <= 65535)) \
    || { echo "cluster: CHAT_NGINX_CONN_PER_ADDRESS must be a number from 1 to 65535 (nginx's limit_conn)" >&2; exit 1; }
galera_port="${CHAT_GALERA_PORT:-3307}"
# What the replicas get as ConnectionStrings:Redis; --redis cluster names the cluster's nodes instead.
redis_endpoints="127.0.0.1:$redis_port"

ready_timeout=60
stop_timeout=15

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# runuser, nginx and redis-server live in sbin, which a non-login root shell may not have on PATH.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
# Every chat connection is a descriptor in a replica and two in nginx: the soft open-file limit up to the hard one
# (nginx.conf asks for 20,000 per worker; the replicas for Chat:MaxConnections plus a few hundred).
ulimit -n "$(ulimit -Hn)" 2> /dev/null || true

is_root() { [[ "$(id -u)" == 0 ]]; }
die() { echo "cluster: $*" >&2; exit 1; }
note() { echo "cluster: $*"; }

# ---------------------------------------------------------------------------------------------------------
# Processes and ports
# ---------------------------------------------------------------------------------------------------------

# A process that has exited but whose parent (init, for these daemons) has not reaped it yet is a zombie:
# dead for our purposes, though kill -0 still succeeds on it.
alive() {
    local stat
    stat="$(cat "/proc/$1/stat" 2> /dev/null)" || return 1
    stat="${stat##*) }"
    [[ "${stat:0:1}" != Z ]]
}

# live_pid PIDFILE PATTERN: the pid in PIDFILE if that process is alive and its command line matches
# PATTERN. The match keeps `down` from signalling an unrelated process that inherited a stale pid (reboot).
live_pid() {
    local pid
    [[ -r "$1" ]] || return 1
    pid="$(head -n 1 "$1" 2> /dev/null | tr -dc '0-9')"
    [[ -n "$pid" ]] && alive "$pid" || return 1
    tr '\0' ' ' < "/proc/$pid/cmdline" 2> /dev/null | grep -q -- "$2" || return 1
    echo "$pid"
}

# await_pid PIDFILE PATTERN SECONDS LOG: prints the pid once PIDFILE names a live process matching PATTERN
# (a daemon writes its pid file after it returns); dies pointing at LOG when it does not within SECONDS.
await_pid() {
    local pid deadline=$((SECONDS + $3))
    until pid="$(live_pid "$1" "$2")"; do
        ((SECONDS < deadline)) || die "$2 did not start, see $4"
        sleep 0.1
    done
    echo "$pid"
}

port_open() { timeout 1 bash -c ": < /dev/tcp/127.0.0.1/$1" 2> /dev/null; }

# http_get PORT PATH: prints "STATUS BODY" (STATUS 000: no answer). curl when installed, else a bare
# HTTP/1.0 request over bash's /dev/tcp, since a fresh Debian has no curl.
http_get() {
    if command -v curl > /dev/null; then
        local out
        out="$(curl -s --max-time 2 -w '\n%{http_code}' "http://127.0.0.1:$1$2" 2> /dev/null)" || true
        echo "${out##*$'\n'} ${out%$'\n'*}"
        return 0
    fi
    (
        exec 3<> "/dev/tcp/127.0.0.1/$1" || { echo "000 "; exit 0; }
        printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$2" >&3
        status=000 line="" body=""
        read -r -t 2 _ status _ <&3 || true
        # Headers end at the first empty line; the body (no trailing newline) follows.
        while IFS= read -r -t 2 line <&3 && [[ -n "${line%$'\r'}" ]]; do :; done
        while IFS= read -r -t 2 line <&3 || [[ -n "$line" ]]; do body+="$line"; line=""; done
        echo "$status $body"
    ) 2> /dev/null
}

readyz_status() { local r; r="$(http_get "$1" /readyz)"; echo "${r%% *}"; }

# stop PIDFILE PATTERN NAME [SIGNAL] [LAST_SIGNAL]: signal, wait up to $stop_timeout s, then LAST_SIGNAL.
stop() {
    local pid deadline
    pid="$(live_pid "$1" "$2")" || { note "$3: not running"; return 0; }
    kill -"${4:-TERM}" "$pid" 2> /dev/null || true
    deadline=$((SECONDS + stop_timeout))
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
    if alive "$pid"; then
        note "$3 (pid $pid) still running after ${stop_timeout}s: sending ${5:-KILL}"
        kill -"${5:-KILL}" "$pid" 2> /dev/null || true
    fi
    note "$3 (pid $pid) stopped"
}

# ---------------------------------------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------------------------------------

pg_bin() {
    local dir
    dir="$(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -n 1)"
    [[ -n "$dir" ]] && dirname "$dir"
}

stream_module() { [[ -f /usr/lib/nginx/modules/ngx_stream_module.so ]]; }

have_nginx_stream() {
    command -v nginx > /dev/null || return 1
    stream_module && return 0
    [[ "$(nginx -V 2>&1)" =~ --with-stream( |$) ]]
}

have_mariadb() { command -v mariadbd > /dev/null && command -v mariadb-install-db > /dev/null; }

galera_provider=/usr/lib/galera/libgalera_smm.so

# ensure_packages DB: the packages for the cluster on DB (mysql or postgres).
ensure_packages() {
    local missing=()
    if [[ "$1" == postgres ]]; then
        [[ -n "$(pg_bin)" ]] || missing+=(postgresql)
    else
        have_mariadb || missing+=(mariadb-server)
    fi
    if [[ "$1" == galera ]]; then
        [[ -f "$galera_provider" ]] || missing+=(galera-4)
        command -v rsync > /dev/null || missing+=(rsync)
    fi
    command -v redis-server > /dev/null || missing+=(redis-server)
    command -v nginx > /dev/null || missing+=(nginx-light)
    have_nginx_stream || missing+=(libnginx-mod-stream)
    ((${#missing[@]} == 0)) && return 0

    local install=(apt-get install -y --no-install-recommends "${missing[@]}")
    if ! is_root; then
        echo "Missing: ${missing[*]}. Install them with:" >&2
        echo "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive ${install[*]}" >&2
        exit 1
    fi
    note "installing ${missing[*]}"
    # The packages would start their own system-wide services (MariaDB 3306, PostgreSQL 5432, Redis 6379, nginx 80) that
    # this cluster never uses, and a taken port 80 would fail the install. Debian's policy-rc.d hook forbids
    # service starts during the install; an existing hook (Docker images ship one) is left as it is.
    local policy=""
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        policy=/usr/sbin/policy-rc.d
        printf '#!/bin/sh\nexit 101\n' > "$policy"
        chmod 755 "$policy"
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt-get update
    DEBIAN_FRONTEND=noninteractive "${install[@]}"
    if [[ -n "$policy" ]]; then rm -f "$policy"; trap - EXIT; fi

    if { [[ "$1" == postgres ]] && [[ -z "$(pg_bin)" ]]; } || { [[ "$1" != postgres ]] && ! have_mariadb; } \
        || { [[ "$1" == galera ]] && { [[ ! -f "$galera_provider" ]] || ! command -v rsync > /dev/null; }; } \
        || ! command -v redis-server > /dev/null || ! have_nginx_stream; then
        die "still missing packages after apt-get install"
    fi
}

# ---------------------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------------------
# PostgreSQL refuses to run as root, so as root its files belong to the postgres OS user and its commands
# run as that user. Its data dir is .cluster/pg unless the postgres user cannot reach into the repository
# (e.g. a checkout under /root): then the data lives under /var/lib/chat-cluster and .cluster/pg links there.

# The real path: the postgres user may be able to use the target of .cluster/pg but not the link itself.
pg_dir="$(readlink -f "$state/pg" || echo "$state/pg")"
pg_pidfile="$pg_dir/data/postmaster.pid"

as_pg() {
    if is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

pg_psql() {
    as_pg "$(pg_bin)/psql" -X -q -v ON_ERROR_STOP=1 -h "$pg_dir/run" -p "$pg_port" -d postgres "$@"
}

prepare_pg_dir() {
    [[ -e "$pg_dir" ]] && return 0
    if is_root && ! runuser -u postgres -- test -x "$state" 2> /dev/null; then
        local outside
        outside="/var/lib/chat-cluster/$(printf '%s' "$repo_root" | md5sum | cut -c1-12)"
        mkdir -p "$outside"
        ln -s "$outside" "$pg_dir"
        pg_dir="$outside"
        pg_pidfile="$pg_dir/data/postmaster.pid"
        note "postgres cannot reach $state; PostgreSQL data lives in $outside"
    else
        mkdir -p "$pg_dir"
    fi
    mkdir -p "$pg_dir/run"
    if is_root; then chown -R postgres: "$pg_dir/"; fi
}

start_postgres() {
    local pid bin
    if pid="$(live_pid "$pg_pidfile" postgres)"; then
        note "postgres: already running (pid $pid)"
    else
        prepare_pg_dir
        bin="$(pg_bin)"
        # The socket path has a hard limit of about 107 bytes in the kernel.
        ((${#pg_dir} + 25 < 107)) || die "path too long for PostgreSQL's socket: $pg_dir/run"
        port_open "$pg_port" && die "port $pg_port is taken by another process: set CHAT_PG_PORT"
        if [[ ! -f "$pg_dir/data/PG_VERSION" ]]; then
            note "postgres: initdb in $pg_dir/data"
            # Peer auth on the socket (for this script), passwords over TCP (for the replicas, as in compose).
            as_pg "$bin/initdb" -D "$pg_dir/data" -U postgres --auth-local=peer --auth-host=scram-sha-256 \
                -E UTF8 --no-locale > "$pg_dir/initdb.log" 2>&1 \
                || die "initdb failed, see $pg_dir/initdb.log"
        fi
        # Ports and sockets on the command line, not in postgresql.conf, so CHAT_PG_PORT applies every time.
        as_pg "$bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/postgres.log" -w -t "$ready_timeout" \
            -o "-p $pg_port -c listen_addresses=127.0.0.1 -k '$pg_dir/run'" start > /dev/null \
            || die "PostgreSQL did not start, see $pg_dir/postgres.log"
        note "postgres: started (pid $(live_pid "$pg_pidfile" postgres)) on 127.0.0.1:$pg_port"
    fi

    # The server applies its migrations but does not create its database or role.
    if [[ -z "$(pg_psql -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'chat'")" ]]; then
        pg_psql -c "CREATE ROLE chat LOGIN PASSWORD 'chat'"
    fi
    if [[ -z "$(pg_psql -tAc "SELECT 1 FROM pg_database WHERE datname = 'chat'")" ]]; then
        pg_psql -c "CREATE DATABASE chat OWNER chat"
        note "postgres: created database chat"
    fi
}

# ---------------------------------------------------------------------------------------------------------
# MariaDB
# ---------------------------------------------------------------------------------------------------------
# Its own data dir, socket and port, so a system-wide MariaDB or MySQL (3306) is neither used nor disturbed.
# Durable: every commit is flushed to the redo log on disk before it returns (innodb_flush_log_at_trx_commit=1),
# the setting an ACKed message relies on. Runs as the invoking user (root: --user=root, since Debian's mysql
# user may not reach into the repository).
mysql_dir="$state/mariadb"
mysql_pidfile="$mysql_dir/mariadb.pid"
mysql_socket="$mysql_dir/mariadb.sock"

mysql_admin() { mariadb --no-defaults --socket="$mysql_socket" -u "$(id -un)" "$@"; }

start_mariadb() {
    local pid user=()
    is_root && user=(--user=root)
    if pid="$(live_pid "$mysql_pidfile" mariadbd)"; then
        note "mariadb: already running (pid $pid)"
    else
        port_open "$mysql_port" && die "port $mysql_port is taken by another process: set CHAT_MYSQL_PORT"
        mkdir -p "$mysql_dir"
        ((${#mysql_socket} < 107)) || die "path too long for MariaDB's socket: $mysql_socket"
        if [[ ! -d "$mysql_dir/data/mysql" ]]; then
            note "mariadb: mariadb-install-db in $mysql_dir/data"
            # The invoking user administers it through the socket (unix_socket authentication), no password.
            mariadb-install-db --no-defaults --datadir="$mysql_dir/data" "${user[@]}" --skip-test-db \
                --auth-root-authentication-method=socket > "$mysql_dir/install.log" 2>&1 \
                || die "mariadb-install-db failed, see $mysql_dir/install.log"
        fi
        # shellcheck disable=SC2016 # $$ and $@ belong to the inner shell
        setsid bash -c 'exec "$@"' _ mariadbd --no-defaults --datadir="$mysql_dir/data" "${user[@]}" \
            --port="$mysql_port" --bind-address=127.0.0.1 --skip-name-resolve --socket="$mysql_socket" \
            --pid-file="$mysql_pidfile" --log-error="$mysql_dir/mariadb.log" \
            --character-set-server=utf8mb4 --collation-server=utf8mb4_bin --max-connections=300 \
            --innodb-flush-log-at-trx-commit=1 --innodb-doublewrite=1 --skip-log-bin \
            < /dev/null > /dev/null 2>&1 &
        pid="$(await_pid "$mysql_pidfile" mariadbd "$ready_timeout" "$mysql_dir/mariadb.log")"
        local deadline=$((SECONDS + ready_timeout))
        until mysql_admin -e "SELECT 1" > /dev/null 2>&1; do
            ((SECONDS < deadline)) || die "MariaDB did not answer, see $mysql_dir/mariadb.log"
            sleep 0.2
        done
        note "mariadb: started (pid $pid) on 127.0.0.1:$mysql_port"
    fi

    # The server applies its migrations but does not create its database or user.
    mysql_admin -e "CREATE DATABASE IF NOT EXISTS chat CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
        CREATE USER IF NOT EXISTS 'chat'@'127.0.0.1' IDENTIFIED BY 'chat';
        GRANT ALL PRIVILEGES ON chat.* TO 'chat'@'127.0.0.1';"
}

# ---------------------------------------------------------------------------------------------------------
# MariaDB Galera (up --db galera)
# ---------------------------------------------------------------------------------------------------------
# Three nodes on 127.0.0.2, .3 and .4 (the whole of 127/8 is loopback on Linux), each with its own data dir, socket
# and log under .cluster/galera/N, all on one SQL port; Galera's group communication on 4567, IST on 4568 and rsync
# SST on 4444 of each node's address. The first node bootstraps an empty cluster; the others join it and get their
# data by SST (a node coming back after a crash or stop gets what it missed by IST from the others' gcache). As root the
# nodes run as the mysql user: the rsync daemon a joiner starts for SST would drop root for nobody. Durable as the single
# node: every commit flushed locally, and certified by the group before it returns.
galera_nodes=(1 2 3)
galera_dir="$(readlink -f "$state/galera" || echo "$state/galera")"

galera_address() { echo "127.0.0.$(($1 + 1))"; }
galera_socket() { echo "$galera_dir/$1/mariadb.sock"; }
galera_pidfile() { echo "$galera_dir/$1/mariadb.pid"; }
galera_admin() { local n="$1"; shift; mariadb --no-defaults --socket="$(galera_socket "$n")" -u "$(id -un)" "$@"; }
galera_status() { galera_admin "$1" -N -s -e "SHOW STATUS LIKE '$2'" 2> /dev/null | cut -f2; }
galera_running() {
    local n
    for n in "${galera_nodes[@]}"; do if live_pid "$(galera_pidfile "$n")" mariadbd > /dev/null; then echo "$n"; fi; done
}

# As prepare_pg_dir: when the mysql user cannot reach into the repository, the data lives under /var/lib/chat-cluster.
prepare_galera_dir() {
    [[ -e "$galera_dir" ]] && return 0
    if is_root && ! runuser -u mysql -- test -x "$state" 2> /dev/null; then
        local outside
        outside="/var/lib/chat-cluster/$(printf '%s' "$repo_root" | md5sum | cut -c1-12)/galera"
        mkdir -p "$outside"
        ln -s "$outside" "$galera_dir"
        galera_dir="$outside"
        note "mysql cannot reach $state; Galera data lives in $outside"
    else
        mkdir -p "$galera_dir"
    fi
}

# start_galera_node N [--wsrep-new-cluster]
start_galera_node() {
    local n="$1" address pid user=() cluster
    shift
    address="$(galera_address "$n")"
    cluster="gcomm://$(galera_address 1),$(galera_address 2),$(galera_address 3)"
    is_root && user=(--user=mysql)
    mkdir -p "$galera_dir/$n/tmp"
    if is_root; then chown -R mysql: "$galera_dir/$n"; fi
    ((${#galera_dir} + 20 < 107)) || die "path too long for MariaDB's socket: $(galera_socket "$n")"
    if [[ ! -d "$galera_dir/$n/data/mysql" ]]; then
        mariadb-install-db --no-defaults --datadir="$galera_dir/$n/data" --tmpdir="$galera_dir/$n/tmp" "${user[@]}" \
            --skip-test-db --auth-root-authentication-method=socket > "$galera_dir/$n/install.log" 2>&1 \
            || die "mariadb-install-db failed, see $galera_dir/$n/install.log"
    fi
    # shellcheck disable=SC2016 # $@ belongs to the inner shell
    setsid bash -c 'exec "$@"' _ mariadbd --no-defaults --datadir="$galera_dir/$n/data" --tmpdir="$galera_dir/$n/tmp" \
        "${user[@]}" --port="$galera_port" --bind-address="$address" --skip-name-resolve --socket="$(galera_socket "$n")" \
        --pid-file="$(galera_pidfile "$n")" --log-error="$galera_dir/$n/mariadb.log" \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_bin --max-connections=300 \
        --innodb-flush-log-at-trx-commit=1 --innodb-doublewrite=1 --binlog-format=ROW --innodb-autoinc-lock-mode=2 \
        --wsrep-on=ON --wsrep-provider="$galera_provider" --wsrep-cluster-name=chat --wsrep-cluster-address="$cluster" \
        --wsrep-node-address="$address" --wsrep-node-name="galera$n" --wsrep-sst-method=rsync \
        --wsrep-sst-receive-address="$address:4444" \
        --wsrep-provider-options="gmcast.listen_addr=tcp://$address:4567;ist.recv_addr=$address:4568;gcache.size=256M;evs.suspect_timeout=PT3S;evs.inactive_timeout=PT6S" \
        "$@" < /dev/null > /dev/null 2>&1 &
    pid="$(await_pid "$(galera_pidfile "$n")" mariadbd "$ready_timeout" "$galera_dir/$n/mariadb.log")"
    local deadline=$((SECONDS + 3 * ready_timeout))
    until [[ "$(galera_status "$n" wsrep_local_state_comment)" == Synced ]]; do
        alive "$pid" || die "galera node $n exited, see $galera_dir/$n/mariadb.log"
        ((SECONDS < deadline)) || die "galera node $n not synced after $((3 * ready_timeout))s, see $galera_dir/$n/mariadb.log"
        sleep 0.5
    done
    note "galera node $n: started (pid $pid) on $address:$galera_port, synced"
}

start_galera() {
    local n running
    prepare_galera_dir
    running="$(galera_running)"
    for n in "${galera_nodes[@]}"; do
        if grep -qx "$n" <<< "$running"; then
            note "galera node $n: already running (pid $(live_pid "$(galera_pidfile "$n")" mariadbd))"
            continue
        fi
        # A port taken on the node's own address only: 127.0.0.1:3307 (the single MariaDB) is another socket.
        timeout 1 bash -c ": < /dev/tcp/$(galera_address "$n")/$galera_port" 2> /dev/null \
            && die "$(galera_address "$n"):$galera_port is taken by another process: set CHAT_GALERA_PORT"
        if [[ -z "$running" ]]; then
            # No node runs: this one starts the cluster. After `down` (nodes stopped 3, 2, 1) node 1 left last and
            # holds every commit, so Galera marked it safe to bootstrap; after a crash of all three, see
            # docs/OPERATIONS.md ("Galera") before forcing it.
            if [[ -f "$galera_dir/$n/data/grastate.dat" ]] && grep -q '^safe_to_bootstrap: 0' "$galera_dir/$n/data/grastate.dat"; then
                die "galera node $n may not hold the latest commits (safe_to_bootstrap: 0): see docs/OPERATIONS.md, Galera"
            fi
            start_galera_node "$n" --wsrep-new-cluster
            running="$n"
        else
            start_galera_node "$n"
        fi
    done

    # The server applies its migrations but does not create its database or user; both replicate to every node.
    galera_admin 1 -e "CREATE DATABASE IF NOT EXISTS chat CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
        CREATE USER IF NOT EXISTS 'chat'@'127.%' IDENTIFIED BY 'chat';
        GRANT ALL PRIVILEGES ON chat.* TO 'chat'@'127.%';"
    note "galera: cluster size $(galera_status 1 wsrep_cluster_size), replicas write to $(galera_address 1) then fail over in order"
}

stop_galera() {
    local n
    # In reverse: node 1 leaves last, holding every commit, and is marked safe to bootstrap the next `up`.
    for n in 3 2 1; do
        if [[ -f "$(galera_pidfile "$n")" ]]; then stop "$(galera_pidfile "$n")" mariadbd "galera node $n"; fi
    done
}

# ---------------------------------------------------------------------------------------------------------
# Redis
# ---------------------------------------------------------------------------------------------------------
redis_pidfile="$state/redis.pid"

start_redis() {
    local pid
    if pid="$(live_pid "$redis_pidfile" redis-server)"; then
        note "redis: already running (pid $pid)"
        return 0
    fi
    port_open "$redis_port" && die "port $redis_port is taken by another process: set CHAT_REDIS_PORT"
    mkdir -p "$state/redis"
    # Redis holds only presence (TTL-bound, rebuilt by the replicas) and pub/sub: nothing worth saving.
    redis-server --bind 127.0.0.1 --port "$redis_port" --daemonize yes --pidfile "$redis_pidfile" \
        --logfile "$state/redis.log" --dir "$state/redis" --save "" --appendonly no
    # --daemonize returns before the pid file is written.
    pid="$(await_pid "$redis_pidfile" redis-server 10 "$state/redis.log")"
    note "redis: started (pid $pid) on 127.0.0.1:$redis_port"
}

# ---------------------------------------------------------------------------------------------------------
# Redis Cluster (up --redis cluster)
# ---------------------------------------------------------------------------------------------------------
# Six nodes on consecutive ports, data and nodes.conf under .cluster/redis-cluster/N; redis-cli --cluster create
# makes the first three masters and gives each a replica. A 2 s node timeout: a dead master's replica takes over
# within a few seconds; the other masters' slots keep working meanwhile (cluster-require-full-coverage no).
redis_cluster_dir="$state/redis-cluster"
redis_cluster_nodes=(0 1 2 3 4 5)

redis_cluster_node_port() { echo $((redis_cluster_port + $1)); }

redis_cluster_state() { redis-cli -p "$redis_cluster_port" cluster info 2> /dev/null | tr -d '\r' | sed -n 's/^cluster_state://p'; }

start_redis_cluster() {
    local n port pid endpoints=()
    for n in "${redis_cluster_nodes[@]}"; do
        port="$(redis_cluster_node_port "$n")"
        endpoints+=("127.0.0.1:$port")
        if pid="$(live_pid "$redis_cluster_dir/$n.pid" redis-server)"; then
            note "redis cluster node $n: already running (pid $pid)"
            continue
        fi
        port_open "$port" && die "port $port is taken by another process: set CHAT_REDIS_CLUSTER_PORT"
        mkdir -p "$redis_cluster_dir/$n"
        redis-server --bind 127.0.0.1 --port "$port" --daemonize yes --pidfile "$redis_cluster_dir/$n.pid" \
            --logfile "$redis_cluster_dir/$n.log" --dir "$redis_cluster_dir/$n" --save "" --appendonly no \
            --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 2000 \
            --cluster-replica-validity-factor 0 --cluster-require-full-coverage no
        pid="$(await_pid "$redis_cluster_dir/$n.pid" redis-server 10 "$redis_cluster_dir/$n.log")"
        note "redis cluster node $n: started (pid $pid) on 127.0.0.1:$port"
    done
    # A node that knows only itself has never been part of a cluster: create it (nodes.conf remembers it after).
    if [[ "$(redis-cli -p "$redis_cluster_port" cluster info | tr -d '\r' | sed -n 's/^cluster_known_nodes://p')" == 1 ]]; then
        redis-cli --cluster create "${endpoints[@]}" --cluster-replicas 1 --cluster-yes > "$redis_cluster_dir/create.log" 2>&1 \
            || die "redis-cli --cluster create failed, see $redis_cluster_dir/create.log"
        note "redis cluster: created, 3 masters + 3 replicas"
    fi
    local deadline=$((SECONDS + ready_timeout))
    until [[ "$(redis_cluster_state)" == ok ]]; do
        ((SECONDS < deadline)) || die "redis cluster state not ok after ${ready_timeout}s, see $redis_cluster_dir/*.log"
        sleep 0.2
    done
    redis_endpoints="$(IFS=,; echo "${endpoints[*]}")"
    echo cluster > "$state/redis-mode"
}

stop_redis_cluster() {
    local n
    for n in "${redis_cluster_nodes[@]}"; do
        if [[ -f "$redis_cluster_dir/$n.pid" ]]; then stop "$redis_cluster_dir/$n.pid" redis-server "redis cluster node $n"; fi
    done
    rm -f "$state/redis-mode"
}

# ---------------------------------------------------------------------------------------------------------
# Chat replicas
# ---------------------------------------------------------------------------------------------------------
app_dir="$state/app"

replica_pid() { live_pid "$state/chat$1.pid" Chat.Server.dll; }

build_server() {
    command -v dotnet > /dev/null || die "dotnet not found: install the .NET 10 SDK (https://dot.net)"
    # A stamp written after a successful publish, since publish may keep the assemblies' older timestamps.
    local stamp="$app_dir/.published" newer
    if [[ -f "$stamp" ]]; then
        newer="$(find "$repo_root/src" "$repo_root"/Directory.*.props \
            \( -name bin -o -name obj \) -prune -o -type f -newer "$stamp" -print -quit)"
        [[ -z "$newer" ]] && return 0
        # Overwriting the assemblies of a running process can crash it; the new build waits for `down`.
        if replica_pid 1 > /dev/null || replica_pid 2 > /dev/null; then
            note "server: sources changed ($newer) but a replica is running; 'down' then 'up' to rebuild"
            return 0
        fi
    fi
    note "server: dotnet publish src/Chat.Server -> $app_dir"
    # Publish beside the old build and swap, so a failed build leaves the previous one intact.
    rm -rf "$app_dir.new"
    dotnet publish "$repo_root/src/Chat.Server" -c Release -o "$app_dir.new" > "$state/build.log" 2>&1 \
        || { tail -n 30 "$state/build.log" >&2; die "build failed, see $state/build.log"; }
    touch "$app_dir.new/.published"
    rm -rf "$app_dir"
    mv "$app_dir.new" "$app_dir"
}

# The database the replicas use: the one `up` started (remembered in .cluster/db for later `up`s).
connection_string() {
    if [[ "$db" == postgres ]]; then
        echo "Host=127.0.0.1;Port=$pg_port;Username=chat;Password=chat;Database=chat"
    elif [[ "$db" == galera ]]; then
        # Every node, in failover order: all replicas write to the first live one (no certification conflicts between
        # them), and a writer whose node died reconnects to the next (Chat:Store:FailoverTimeout).
        echo "Server=$(galera_address 1),$(galera_address 2),$(galera_address 3);Port=$galera_port;LoadBalance=FailOver;User ID=chat;Password=chat;Database=chat"
    else
        echo "Server=127.0.0.1;Port=$mysql_port;User ID=chat;Password=chat;Database=chat"
    fi
}

# start_replica N CHAT_PORT HTTP_PORT
start_replica() {
    local n="$1" pid
    if pid="$(replica_pid "$n")"; then
        note "chat$n: already running (pid $pid)"
        return 0
    fi
    port_open "$2" && die "port $2 is taken by another process: set CHAT_PORT_$n"
    port_open "$3" && die "port $3 is taken by another process: set CHAT_HTTP_PORT_$n"
    rm -f "$state/chat$n.pid"
    # setsid: its own session, so closing the terminal or Ctrl-C after `up` does not stop it. The inner shell
    # writes its own pid then execs dotnet, so the pid file holds the server's pid however setsid forks. It runs
    # in the app's directory: the content root is watched for appsettings changes, recursively, and the
    # repository root holds .cluster/ (PostgreSQL's files, these logs), whose every write would wake the watcher.
    # shellcheck disable=SC2016 # $$ and $1 belong to the inner shell
    ConnectionStrings__Chat="$(connection_string)" Chat__Store__Provider="${db/galera/mysql}" \
    ConnectionStrings__Redis="$redis_endpoints" \
    DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS="${DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS:-1}" \
    Chat__TrustedProxies__0=127.0.0.1 \
    Chat__ReplicaId="chat$n" Chat__ListenAddress=127.0.0.1 Chat__Port="$2" Chat__HttpPort="$3" \
        setsid bash -c 'echo $$ > "$1"; cd "$(dirname "$2")" && exec dotnet "$2"' _ "$state/chat$n.pid" "$app_dir/Chat.Server.dll" \
        < /dev/null >> "$state/chat$n.log" 2>&1 &
    pid="$(await_pid "$state/chat$n.pid" Chat.Server.dll 5 "$state/chat$n.log")"
    note "chat$n: started (pid $pid) on 127.0.0.1:$2, http :$3, log $state/chat$n.log"
}

# ---------------------------------------------------------------------------------------------------------
# nginx
# ---------------------------------------------------------------------------------------------------------
nginx_pidfile="$state/nginx.pid"
nginx_conf="$state/nginx.conf"

# The container config (nginx.conf) is the one source of the stream and http settings; only its addresses, paths
# and Debian's dynamic stream module differ here. The http side's temporary files go to .cluster/ too: Debian's
# nginx would otherwise want /var/lib/nginx, which only root may write.
generate_nginx_conf() {
    local temp="$state/nginx-temp"
    mkdir -p "$temp"
    {
        if stream_module; then echo "load_module /usr/lib/nginx/modules/ngx_stream_module.so;"; fi
        sed -e "s|^error_log .*;|error_log $state/nginx-error.log notice;|" \
            -e "s|^pid .*;|pid $nginx_pidfile;|" \
            -e "s|access_log /dev/stdout|access_log $state/nginx-access.log|" \
            -e "s|server chat1:6000|server 127.0.0.1:$chat_port_1|" \
            -e "s|server chat2:6000|server 127.0.0.1:$chat_port_2|" \
            -e "s|server chat1:8080|server 127.0.0.1:$http_port_1|" \
            -e "s|server chat2:8080|server 127.0.0.1:$http_port_2|" \
            -e "s|listen 8000;|listen 127.0.0.1:$nginx_port;|" \
            -e "s|listen 8080;|listen 127.0.0.1:$nginx_http_port;|" \
            -e "s|limit_conn chat_per_address [0-9]*;|limit_conn chat_per_address $conn_per_address;|" \
            -e "s|limit_conn ws_per_address [0-9]*;|limit_conn ws_per_address $conn_per_address;|" \
            -e "s|^http {|http {\n    client_body_temp_path $temp/body;\n    proxy_temp_path $temp/proxy;\n    fastcgi_temp_path $temp/fastcgi;\n    uwsgi_temp_path $temp/uwsgi;\n    scgi_temp_path $temp/scgi;|" \
            "$repo_root/nginx.conf"
    } > "$nginx_conf.tmp"
    # A changed nginx.conf must fail loudly here rather than leave container addresses in the local config.
    local expected
    for expected in "server 127.0.0.1:$chat_port_1 " "server 127.0.0.1:$chat_port_2 " \
        "server 127.0.0.1:$http_port_1 " "server 127.0.0.1:$http_port_2 " "proxy_temp_path $temp/proxy;" \
        "listen 127.0.0.1:$nginx_port;" "listen 127.0.0.1:$nginx_http_port;" "pid $nginx_pidfile;" "error_log $state/nginx-error.log" \
        "limit_conn chat_per_address $conn_per_address;" "limit_conn ws_per_address $conn_per_address;"; do
        grep -qF -- "$expected" "$nginx_conf.tmp" \
            || die "could not derive $nginx_conf from nginx.conf (no '$expected'): update generate_nginx_conf"
    done
    mv "$nginx_conf.tmp" "$nginx_conf"
}

# -e (1.19.5+) keeps nginx from opening the packaged /var/log/nginx/error.log before it reads the config.
nginx_cmd() {
    local cmd=(nginx -p "$state" -c "$nginx_conf")
    if nginx -h 2>&1 | grep -q -- '-e filename'; then cmd+=(-e "$state/nginx-error.log"); fi
    "${cmd[@]}" "$@"
}

start_nginx() {
    local pid
    if pid="$(live_pid "$nginx_pidfile" nginx)"; then
        note "nginx: already running (pid $pid)"
        return 0
    fi
    port_open "$nginx_port" && die "port $nginx_port is taken by another process: set CHAT_NGINX_PORT"
    port_open "$nginx_http_port" && die "port $nginx_http_port is taken by another process: set CHAT_NGINX_HTTP_PORT"
    generate_nginx_conf
    nginx_cmd -t -q || die "invalid $nginx_conf"
    nginx_cmd
    note "nginx: started (pid $(live_pid "$nginx_pidfile" nginx)) on 127.0.0.1:$nginx_port (chat), :$nginx_http_port (http, /ws)"
}

# ---------------------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------------------

wait_ready() {
    local deadline=$((SECONDS + ready_timeout)) s1 s2 proxy n
    while :; do
        # A replica that exited (bad config, port taken, build broken) will not become ready: say so now.
        for n in 1 2; do
            if ! replica_pid "$n" > /dev/null; then
                echo "cluster: chat$n exited; last lines of $state/chat$n.log:" >&2
                tail -n 20 "$state/chat$n.log" >&2
                exit 1
            fi
        done
        s1="$(readyz_status "$http_port_1")"
        s2="$(readyz_status "$http_port_2")"
        proxy=closed
        # Probing nginx before the replicas listen would make it count failures against them (max_fails) and
        # refuse the first real clients for fail_timeout.
        if [[ "$s1" == 200 && "$s2" == 200 ]] && port_open "$nginx_port" && port_open "$nginx_http_port"; then proxy=open; fi
        [[ "$s1" == 200 && "$s2" == 200 && "$proxy" == open ]] && return 0
        if ((SECONDS >= deadline)); then
            die "not ready after ${ready_timeout}s: chat1 /readyz $s1, chat2 /readyz $s2, nginx :$nginx_port :$nginx_http_port $proxy" \
                "(logs in $state)"
        fi
        sleep 0.5
    done
}

cmd_up() {
    ensure_packages "$db"
    mkdir -p "$state"
    if [[ -f "$state/db" && "$(cat "$state/db")" != "$db" ]] && { replica_pid 1 > /dev/null || replica_pid 2 > /dev/null; }; then
        die "the running replicas use $(cat "$state/db"); 'down' first to switch to $db"
    fi
    echo "$db" > "$state/db"
    case "$db" in
        postgres) start_postgres ;;
        galera) start_galera ;;
        *) start_mariadb ;;
    esac
    if [[ "$redis_mode" == cluster ]]; then start_redis_cluster; else start_redis; fi
    build_server
    start_replica 1 "$chat_port_1" "$http_port_1"
    start_replica 2 "$chat_port_2" "$http_port_2"
    start_nginx
    wait_ready

    echo
    echo "Chat cluster is up on $db: nginx 127.0.0.1:$nginx_port -> chat1 :$chat_port_1, chat2 :$chat_port_2"
    echo "  connect:  nc 127.0.0.1 $nginx_port        (then e.g. {\"msgid\":13} + Enter -> {\"msgid\":14})"
    echo "  web:      http://127.0.0.1:$nginx_http_port/  (chat over WebSocket: ws://127.0.0.1:$nginx_http_port/ws)"
    if [[ -d "$repo_root/src/Chat.Client" ]]; then
        echo "  client:   dotnet run --project src/Chat.Client -- 127.0.0.1 $nginx_port"
    fi
    echo "  health:   http://127.0.0.1:$http_port_1/readyz  http://127.0.0.1:$http_port_2/readyz  (/healthz: alive)"
    echo "  logs:     $state/*.log    stop: scripts/cluster.sh down [--purge]"
}

cmd_down() {
    # Front to back, so clients are cut off before the replicas and the replicas before their stores.
    stop "$nginx_pidfile" nginx nginx
    stop "$state/chat2.pid" Chat.Server.dll chat2
    stop "$state/chat1.pid" Chat.Server.dll chat1
    stop "$redis_pidfile" redis-server redis
    stop_redis_cluster
    # SIGINT is PostgreSQL's fast shutdown (SIGTERM would wait for sessions to end); SIGQUIT, not SIGKILL,
    # as the last resort, so the postmaster still takes its children down.
    stop "$pg_pidfile" postgres postgres INT QUIT
    # SIGTERM is MariaDB's clean shutdown (InnoDB flushed); SIGKILL only when it hangs.
    stop "$mysql_pidfile" mariadbd mariadb
    stop_galera

    if [[ "${1:-}" == --purge ]]; then
        # The PostgreSQL data may live outside the repository (see prepare_pg_dir).
        if [[ -L "$state/pg" ]]; then
            rm -rf "$pg_dir"
            rmdir --ignore-fail-on-non-empty "$(dirname "$pg_dir")"
        fi
        if [[ -L "$state/galera" ]]; then rm -rf "$galera_dir"; fi
        rm -rf "$state"
        note "purged $state"
    fi
}

cmd_status() {
    # row NAME PIDFILE PATTERN PORTS
    row() {
        local pid
        if pid="$(live_pid "$2" "$3")"; then
            printf '%-9s running  pid %-8s %s\n' "$1" "$pid" "$4"
        else
            printf '%-9s stopped  %-12s %s\n' "$1" "" "$4"
        fi
    }
    local n
    row mariadb "$mysql_pidfile" mariadbd "127.0.0.1:$mysql_port"
    row postgres "$pg_pidfile" postgres "127.0.0.1:$pg_port"
    for n in "${galera_nodes[@]}"; do
        if [[ -f "$(galera_pidfile "$n")" ]]; then
            row "galera$n" "$(galera_pidfile "$n")" mariadbd \
                "$(galera_address "$n"):$galera_port $(galera_status "$n" wsrep_local_state_comment) size $(galera_status "$n" wsrep_cluster_size)"
        fi
    done
    row redis "$redis_pidfile" redis-server "127.0.0.1:$redis_port"
    local n
    for n in "${redis_cluster_nodes[@]}"; do
        if [[ -f "$redis_cluster_dir/$n.pid" ]]; then
            row "redis-c$n" "$redis_cluster_dir/$n.pid" redis-server "127.0.0.1:$(redis_cluster_node_port "$n")"
        fi
    done
    row chat1 "$state/chat1.pid" Chat.Server.dll "127.0.0.1:$chat_port_1 http :$http_port_1"
    row chat2 "$state/chat2.pid" Chat.Server.dll "127.0.0.1:$chat_port_2 http :$http_port_2"
    row nginx "$nginx_pidfile" nginx "127.0.0.1:$nginx_port http :$nginx_http_port"
    local r n port
    for n in 1 2; do
        port="http_port_$n"
        r="$(http_get "${!port}" /readyz)"
        echo "chat$n /readyz: ${r%% *} ${r#* }"
    done
}

# Once up on a database or a Redis Cluster, a plain `up` keeps to it (e.g. to bring back a Galera node that died).
redis_mode="$(cat "$state/redis-mode" 2> /dev/null || echo single)"
db="$(cat "$state/db" 2> /dev/null || echo mysql)"
case "${1:-}" in
    up)
        shift
        while (($#)); do
            case "$1 ${2:-}" in
                "--db mysql" | "--db postgres" | "--db galera") db="$2" ;;
                "--redis single" | "--redis cluster") redis_mode="$2" ;;
                *) echo "usage: $0 up [--db mysql|postgres|galera] [--redis single|cluster]" >&2; exit 2 ;;
            esac
            shift 2
        done
        cmd_up
        ;;
    down)
        [[ -z "${2:-}" || "$2" == --purge ]] || { echo "usage: $0 down [--purge]" >&2; exit 2; }
        cmd_down "${2:-}"
        ;;
    status) cmd_status ;;
    *)
        echo "usage: $0 up [--db mysql|postgres|galera] [--redis single|cluster] | down [--purge] | status" >&2
        exit 2
        ;;
esac
