#!/usr/bin/env bash
# The whole benchmark in one command: starts the local cluster (scripts/cluster.sh), runs the references
# (raw loopback TCP ping-pong, redis-benchmark SET and PUBLISH) and every Chat.Bench workload once, prints
# the results, then brings the cluster down. Meant for a quiet machine; see BENCHMARKS.md.
#
#   scripts/bench.sh              human-readable results
#   BENCH_JSON=1 scripts/bench.sh one JSON object per workload on stdout (progress stays on stderr)
#
# Ports are cluster.sh's (CHAT_NGINX_PORT, CHAT_NGINX_HTTP_PORT, CHAT_PORT_1, CHAT_PORT_2, CHAT_HTTP_PORT_1, CHAT_HTTP_PORT_2,
# CHAT_MYSQL_PORT, CHAT_PG_PORT, CHAT_REDIS_PORT) plus BENCH_ECHO_PORT (7000) for the raw TCP echo server.
# BENCH_DB (mysql) is the cluster's database when this script starts it: mysql (MariaDB) or postgres.
# BENCH_SECONDS (10) and BENCH_WARMUP (2) set each run's measured window and warm-up;
# BENCH_IDLE_CONNECTIONS (5000) the idle workload's size; BENCH_REDIS=cluster runs it all on a Redis Cluster
# (cluster.sh up --redis cluster). A cluster that was already up is left running.
#
#   scripts/bench.sh seed         Chat side by side with the seed (issue 13): the seed's own workload
#                                 (Chat.Bench seed-pingpong: its protocol, one message in flight per pair) against
#                                 the seed peer and against this checkout's cluster (MariaDB), interleaved:
#                                 same server 50 pairs, across servers 50 pairs, same server 1 pair. Prints one
#                                 table (rates as ratios to the seed's same-server 50-pair rate of the same round,
#                                 latency, lost, server CPU-µs per delivered message with its parts).
#     BENCH_ROUNDS (3)            rounds; each runs every workload on every system, one after the other
#     BENCH_WORKLOADS ("same50 cross50 same1") which workloads, in that order
#     BENCH_BASELINE=DIR          also an earlier checkout of this repository (A/B, e.g. a `git worktree` of main),
#                                 labelled "base", its cluster on this one's ports + BENCH_BASELINE_OFFSET (100)
#     BENCH_DB, BENCH_BASELINE_DB (mysql) each system's store: mysql or galera (three nodes on one SQL port, whose
#                                 CPU is counted with the database's), e.g. a worktree of this same commit as the
#                                 baseline with BENCH_BASELINE_DB=galera prices synchronous replication
#     BENCH_SEEDPEER=FILE         the seed peer's starter script (`FILE up|down|status`; it runs the seed on 3306,
#                                 6379, 7000, 7002), which is not part of this repository; unset, only Chat runs. Each run is bounded: a hung or broken system
#                                 costs its window and drain, its lost messages are counted.
#     BENCH_FLOOR=1               also the relay floor (benchmarks/RelayFloor), labelled "floor": two .NET processes
#                                 with what a replica of this design cannot do without (Kestrel, the protocol's
#                                 framing and JSON, a Redis channel per user on this cluster's Redis) and nothing
#                                 else, on this cluster's chat ports + 200: the least a replica's CPU could be
#     BENCH_RESULTS (.cluster/bench-seed.jsonl) keeps every run's JSON line; the table is printed from it.
#                                 Each Chat system is warmed first by unmeasured passes over the workloads, until its
#                                 replicas compiled (JIT) for under a second in a pass, at most 4 passes
#     BENCH_COLD=1                no warm-up run: round 1's first workload meets replicas that have served nothing yet
#                                 (a cluster this script starts; with BENCH_WARMUP=0 its first seconds are measured)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="$repo_root/.cluster"
cluster="$repo_root/scripts/cluster.sh"

nginx_port="${CHAT_NGINX_PORT:-8000}"
chat_port_1="${CHAT_PORT_1:-6000}"
chat_port_2="${CHAT_PORT_2:-6002}"
nginx_http_port="${CHAT_NGINX_HTTP_PORT:-8080}"
http_port_1="${CHAT_HTTP_PORT_1:-8081}"
http_port_2="${CHAT_HTTP_PORT_2:-8082}"
redis_port="${CHAT_REDIS_PORT:-6380}"
echo_port="${BENCH_ECHO_PORT:-7000}"
seconds="${BENCH_SECONDS:-10}"
warmup="${BENCH_WARMUP:-2}"
idle_connections="${BENCH_IDLE_CONNECTIONS:-5000}"

export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# The lowest PBKDF2 cost the server accepts: registering and logging in thousands of bench users is setup,
# not what is measured. It applies only to replicas this script starts.
export Chat__PasswordIterations="${Chat__PasswordIterations:-10000}"
# Every bench user registers and logs in from 127.0.0.1: lift the per-address budgets meant for real clients.
export Chat__RegistrationsPerAddress="${Chat__RegistrationsPerAddress:-1000000}"
export Chat__PasswordLoginsPerAddress="${Chat__PasswordLoginsPerAddress:-1000000}"
# The idle run holds more connections than a replica's default cap, all from one address, through nginx too.
export Chat__MaxConnections="${Chat__MaxConnections:-100000}"
export Chat__MaxConnectionsPerAddress="${Chat__MaxConnectionsPerAddress:-1000000}"
export Chat__MaxAnonymousConnections="${Chat__MaxAnonymousConnections:-100000}"
export CHAT_NGINX_CONN_PER_ADDRESS="${CHAT_NGINX_CONN_PER_ADDRESS:-65535}" # nginx's limit_conn takes at most 65535
# The bench's own sockets complete on the event thread too (fewer thread hops; it shares the cores).
export DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS="${DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS:-1}"
# Many connections per process: the soft open-file limit up to the hard one (raise the hard one with
# `ulimit -Hn` as root, or in /etc/security/limits.conf, for more than ~20,000 idle connections).
ulimit -n "$(ulimit -Hn)"

both="127.0.0.1:$chat_port_1,127.0.0.1:$chat_port_2"
nginx="127.0.0.1:$nginx_port"
both_http="127.0.0.1:$http_port_1,127.0.0.1:$http_port_2"
nginx_http="127.0.0.1:$nginx_http_port"
json=()
[[ -n "${BENCH_JSON:-}" ]] && json=(--json)

section() { echo; echo "== $* =="; }
bench() { dotnet "$repo_root/src/Chat.Bench/bin/Release/net10.0/Chat.Bench.dll" "$@" --seconds "$seconds" --warmup "$warmup" "${json[@]}"; }

echo "bench: building Chat.Bench"
dotnet build "$repo_root/src/Chat.Bench" -c Release > /dev/null

if [[ "${1:-}" == seed ]]; then
    seedpeer="${BENCH_SEEDPEER:-}"
    baseline="${BENCH_BASELINE:-}"
    offset="${BENCH_BASELINE_OFFSET:-100}"
    rounds="${BENCH_ROUNDS:-3}"
    results="${BENCH_RESULTS:-$state/bench-seed.jsonl}"
    mysql_port="${CHAT_MYSQL_PORT:-3307}"
    mkdir -p "$(dirname "$results")"
    : > "$results"
    # A run may not outlast its window, drain and setup by much: a stuck system is cut off, not waited for.
    limit=$((warmup + seconds + 5 + 120 + 30))
    started=()
    # cluster_at DIR OFFSET up|down: that checkout's cluster.sh on this one's ports + OFFSET, one Redis.
    cluster_at() {
        CHAT_PORT_1=$((chat_port_1 + $2)) CHAT_PORT_2=$((chat_port_2 + $2)) \
        CHAT_HTTP_PORT_1=$((${CHAT_HTTP_PORT_1:-8081} + $2)) CHAT_HTTP_PORT_2=$((${CHAT_HTTP_PORT_2:-8082} + $2)) \
        CHAT_NGINX_PORT=$((nginx_port + $2)) CHAT_NGINX_HTTP_PORT=$((nginx_http_port + $2)) \
        CHAT_MYSQL_PORT=$((mysql_port + $2)) CHAT_GALERA_PORT=$((mysql_port + $2)) CHAT_REDIS_PORT=$((redis_port + $2)) \
        CHAT_PG_PORT=$((${CHAT_PG_PORT:-5433} + $2)) CHAT_REDIS_CLUSTER_PORT=$((${CHAT_REDIS_CLUSTER_PORT:-6391} + $2)) \
            "$1/scripts/cluster.sh" "${@:3}"
    }
    stop_all() {
        local s
        for s in "${started[@]}"; do
            case "$s" in
                seed) "$seedpeer" down > /dev/null || true ;;
                chat) cluster_at "$repo_root" 0 down || true ;;
                base) cluster_at "$baseline" "$offset" down || true ;;
                floor) kill "${floor_pids[@]}" 2> /dev/null || true ;;
            esac
        done
    }
    trap stop_all EXIT
    systems=()
    if [[ -n "$seedpeer" && -x "$seedpeer" ]]; then
        [[ "$("$seedpeer" status)" == *"up    chat-7000"* ]] || started+=(seed)
        "$seedpeer" up
        systems+=(seed)
    else
        echo "bench: no seed peer (BENCH_SEEDPEER=${seedpeer:-unset} is not an executable): Chat only" >&2
    fi
    [[ "$(cluster_at "$repo_root" 0 status 2> /dev/null)" =~ chat1\ +running ]] || started+=(chat)
    cluster_at "$repo_root" 0 up --db "${BENCH_DB:-mysql}"
    systems+=(chat)
    if [[ -n "$baseline" ]]; then
        [[ "$(cluster_at "$baseline" "$offset" status 2> /dev/null)" =~ chat1\ +running ]] || started+=(base)
        cluster_at "$baseline" "$offset" up --db "${BENCH_BASELINE_DB:-mysql}"
        systems+=(base)
    fi
    floor_pids=()
    if [[ -n "${BENCH_FLOOR:-}" ]]; then
        dotnet build "$repo_root/benchmarks/RelayFloor" -c Release > /dev/null
        started+=(floor)
        for port in $((chat_port_1 + 200)) $((chat_port_2 + 200)); do
            dotnet "$repo_root/benchmarks/RelayFloor/bin/Release/net10.0/RelayFloor.dll" "$port" "127.0.0.1:$redis_port" &
            floor_pids+=($!)
            for _ in $(seq 100); do timeout 1 bash -c ": < /dev/tcp/127.0.0.1/$port" 2> /dev/null && break; sleep 0.1; done
        done
        systems+=(floor)
    fi

    # seed_run SYSTEM ROUND ARGS...: one seed-pingpong on that system, its JSON line appended to the results.
    seed_run() {
        local system="$1" round="$2" endpoints ports off
        shift 2
        case "$system" in
            seed)
                endpoints="127.0.0.1:7000,127.0.0.1:7002" ports="3306,6379" ;;
            floor)
                endpoints="127.0.0.1:$((chat_port_1 + 200)),127.0.0.1:$((chat_port_2 + 200))" ports="$redis_port" ;;
            *)
                off=0
                [[ "$system" == base ]] && off="$offset"
                endpoints="127.0.0.1:$((chat_port_1 + off)),127.0.0.1:$((chat_port_2 + off))"
                ports="$((mysql_port + off)),$((redis_port + off))" ;;
        esac
        echo "bench: round $round, $system: seed-pingpong $*   (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
        timeout --kill-after=10 "$limit" dotnet "$repo_root/src/Chat.Bench/bin/Release/net10.0/Chat.Bench.dll" seed-pingpong \
            --endpoints "$endpoints" --cpu-ports "$ports" --seconds "$seconds" --warmup "$warmup" --quiet --json \
            --label "$system" --round "$round" "$@" >> "$results" \
            || echo "bench: round $round, $system: seed-pingpong $* failed or was cut off (exit $?)" >&2
        if [[ "$system" == seed && "$*" != *same-endpoint* ]]; then
            # Across servers the seed's threads share one Redis connection unlocked: after such a run it may
            # no longer answer even REG, so it is restarted before anything else runs on it.
            { timeout 120 "$seedpeer" down && timeout 120 "$seedpeer" up; } > /dev/null \
                || echo "bench: restarting the seed failed: its later runs will show it" >&2
        fi
    }

    section "machine"
    echo "$(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    workload_options() {
        case "$1" in
            same50) options=(--same-endpoint --pairs 50) ;;
            cross50) options=(--pairs 50) ;;
            same1) options=(--same-endpoint --pairs 1) ;;
            *) echo "bench: unknown workload $1 (same50, cross50, same1)" >&2; exit 2 ;;
        esac
    }
    # jit_seconds SYSTEM: seconds its two replicas have spent compiling so far (the runtime's counter in /metrics).
    jit_seconds() {
        local off=0 port total=0
        [[ "$1" == base ]] && off="$offset"
        for port in $((${CHAT_HTTP_PORT_1:-8081} + off)) $((${CHAT_HTTP_PORT_2:-8082} + off)); do
            total="$(curl -s "http://127.0.0.1:$port/metrics" \
                | awk -v t="$total" '/^dotnet_jit_compilation_time_seconds_total/ { t += $2 } END { print t + 0 }')"
        done
        echo "$total"
    }
    # A replica's first minute is spent compiling (tiered JIT, which recompiles the hot methods with what it
    # learnt): each Chat system is warmed by unmeasured runs of every workload, again until its replicas compiled
    # for less than a second over a whole pass (at most 4 passes), unless BENCH_COLD=1 asks what its first
    # seconds cost (with BENCH_WARMUP=0 and fresh clusters).
    for system in "${systems[@]}"; do
        [[ "$system" == seed || -n "${BENCH_COLD:-}" ]] && continue
        for pass in 1 2 3 4; do
            before="$(jit_seconds "$system")"
            for workload in ${BENCH_WORKLOADS:-same50 cross50 same1}; do
                workload_options "$workload"
                seed_run "$system" 0 "${options[@]}"
            done
            # The floor has no /metrics: two passes, as many as the replicas needed to compile most of theirs.
            [[ "$system" == floor ]] && { ((pass < 2)) && continue || break; }
            compiled="$(awk -v a="$before" -v b="$(jit_seconds "$system")" 'BEGIN { printf "%.1f", b - a }')"
            echo "bench: warm-up pass $pass, $system: its replicas compiled for $compiled s" >&2
            awk -v c="$compiled" 'BEGIN { exit !(c < 1) }' && break
        done
    done
    : > "$results"
    for round in $(seq "$rounds"); do
        for workload in ${BENCH_WORKLOADS:-same50 cross50 same1}; do
            workload_options "$workload"
            for system in "${systems[@]}"; do
                seed_run "$system" "$round" "${options[@]}"
            done
        done
    done
    section "seed vs Chat (seed-pingpong, ${seconds} s measured after ${warmup} s warm-up; $results)"
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    dotnet "$repo_root/src/Chat.Bench/bin/Release/net10.0/Chat.Bench.dll" compare "$results"
    exit 0
fi

started_cluster=""
status="$("$cluster" status 2> /dev/null || true)"
if ! grep -q '^chat1 *running' <<< "$status"; then started_cluster=yes; fi
echo_pid=""
cleanup() {
    if [[ -n "$echo_pid" ]]; then kill "$echo_pid" 2> /dev/null || true; fi
    if [[ -n "$started_cluster" ]]; then "$cluster" down; fi
}
trap cleanup EXIT
"$cluster" up --db "${BENCH_DB:-mysql}" ${BENCH_REDIS:+--redis "$BENCH_REDIS"}

section "machine"
echo "$(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

section "reference: raw loopback TCP ping-pong (same sizes as the chat runs)"
dotnet "$repo_root/src/Chat.Bench/bin/Release/net10.0/Chat.Bench.dll" tcp-echo --port "$echo_port" &
echo_pid=$!
for _ in $(seq 50); do timeout 1 bash -c ": < /dev/tcp/127.0.0.1/$echo_port" 2> /dev/null && break; sleep 0.1; done
bench tcp-pingpong --endpoint "127.0.0.1:$echo_port" --pairs 1 --size 32
bench tcp-pingpong --endpoint "127.0.0.1:$echo_port" --pairs 16 --size 32
bench tcp-pingpong --endpoint "127.0.0.1:$echo_port" --pairs 50 --size 32
kill "$echo_pid"
wait "$echo_pid" 2> /dev/null || true
echo_pid=""

section "reference: redis-benchmark (SET, PUBLISH with no subscriber)"
# -q still draws a progress line with carriage returns: keep only the summary.
redis_bench() { redis-benchmark -p "$redis_port" -q -n 200000 "$@" | tr '\r' '\n' | grep 'requests per second'; }
if [[ "${BENCH_REDIS:-}" == cluster ]]; then
    # The first node is the master of slots 0-5460, bench-channel's among them (slot 5052).
    redis_port="${CHAT_REDIS_CLUSTER_PORT:-6391}"
    redis_bench -t set --cluster
    redis_bench spublish bench-channel 0123456789012345678901234567890
else
    redis_bench -t set
    redis_bench publish bench-channel 0123456789012345678901234567890
fi

section "same replica: pingpong"
bench pingpong --endpoints "$both" --same-endpoint --pairs 1
bench pingpong --endpoints "$both" --same-endpoint --pairs 50

section "cross-replica: pingpong (pair members on different replicas)"
bench pingpong --endpoints "$both" --pairs 1
bench pingpong --endpoints "$both" --pairs 16
bench pingpong --endpoints "$both" --pairs 50

section "cross-replica: open loop over 50 pairs, 2,000 and 10,000 messages/s"
bench rate --endpoints "$both" --pairs 50 --rate 2000
bench rate --endpoints "$both" --pairs 50 --rate 10000

section "through nginx: pingpong"
bench pingpong --endpoints "$nginx" --pairs 50

section "WebSocket (/ws) against TCP, the same workload back to back: cross-replica, then through nginx"
bench pingpong --endpoints "$both" --pairs 50
bench pingpong --ws --endpoints "$both_http" --pairs 50
bench pingpong --ws --endpoints "$nginx_http" --pairs 50

section "group G=10 (10 groups, every member sends)"
bench group --endpoints "$both" --groups 10 --members 10

section "group G=100 (1 group, 10 senders, then every member sends)"
bench group --endpoints "$both" --groups 1 --members 100 --senders 10
bench group --endpoints "$both" --groups 1 --members 100

section "idle connections ($idle_connections, PING every 20 s)"
bench idle --endpoints "$both" --connections "$idle_connections" --setup-parallelism 32 \
    --server-pid "$(cat "$state/chat1.pid"),$(cat "$state/chat2.pid")"
