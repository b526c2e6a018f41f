#!/usr/bin/env bash
# The writer benchmark on all three engines, same box, same run (BENCHMARKS.md, "The writer per engine"):
# starts a throwaway MariaDB and PostgreSQL with durable settings (innodb_flush_log_at_trx_commit=1; fsync and
# synchronous_commit on, PostgreSQL's defaults) on free loopback ports in a temp directory, runs
# benchmarks/Chat.Benchmarks' WriterBenchmarks against them and SQLite (WAL, synchronous=FULL), then stops both
# servers (by pid) and deletes the directory.   benchmarks/writer.sh [extra BenchmarkDotNet arguments]
# CHAT_BENCH_FILTER picks other benchmarks on the same servers (benchmarks/history.sh).
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
command -v mariadbd > /dev/null || { echo "mariadb-server is not installed (scripts/test.sh installs it)" >&2; exit 1; }
pg_bin="$(dirname "$(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -n 1)")"
[[ -x "$pg_bin/initdb" ]] || { echo "postgresql is not installed (scripts/test.sh installs it)" >&2; exit 1; }

work="$(mktemp -d /tmp/chat-writer-bench-XXXXXX)"
chmod 755 "$work"
source "$repo_root/benchmarks/common.sh"
my_port="$(free_port)"
pg_port="$(free_port)"
as_pg() { if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
    stop_mariadb
    [[ -f "$work/pg/data/postmaster.pid" ]] && as_pg "$pg_bin/pg_ctl" -D "$work/pg/data" -m fast -w stop > /dev/null
    rm -rf "$work"
}
trap cleanup EXIT

start_mariadb "$work/my" "$my_port"
mkdir -p "$work/pg"
[[ "$(id -u)" == 0 ]] && chown postgres: "$work/pg"
as_pg "$pg_bin/initdb" -D "$work/pg/data" -U postgres -A trust -E UTF8 --no-locale > "$work/initdb.log"
as_pg "$pg_bin/pg_ctl" -D "$work/pg/data" -l "$work/pg/pg.log" -w \
    -o "-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1 -c synchronous_commit=on -c fsync=on" start > /dev/null

export CHAT_BENCH_MYSQL="Server=127.0.0.1;Port=$my_port;User ID=root"
export CHAT_BENCH_POSTGRES="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres"
cd "$work"
dotnet run -c Release --project "$repo_root/benchmarks/Chat.Benchmarks" -- --filter "${CHAT_BENCH_FILTER:-*WriterBenchmarks*}" \
    --artifacts "$repo_root/BenchmarkDotNet.Artifacts" "$@"
