#!/usr/bin/env bash
# The HISTORY benchmark (BENCHMARKS.md, "HISTORY in a conversation of 1,000,000 messages"): the throwaway durable
# MariaDB and PostgreSQL of benchmarks/writer.sh, then HistoryBenchmarks on the engines in
# CHAT_BENCH_HISTORY_PROVIDERS (default: mysql, the default store; e.g. mysql,postgres,sqlite).
#   benchmarks/history.sh [extra BenchmarkDotNet arguments]
set -euo pipefail
CHAT_BENCH_FILTER='*HistoryBenchmarks*' exec "$(dirname "${BASH_SOURCE[0]}")/writer.sh" "$@"
