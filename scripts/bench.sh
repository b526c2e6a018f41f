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
# The idle run holds more connections than a replica's default cap.
export Chat__MaxConnections="${Chat__MaxConnections:-100000}"
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
