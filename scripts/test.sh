#!/usr/bin/env bash
# Runs the whole test suite, on a developer machine or a fresh Debian 12 box that has only the .NET SDK.
#
#   scripts/test.sh [extra dotnet test arguments, e.g. --filter FullyQualifiedName~Framing]
#
# Integration tests start their own throwaway MariaDB, PostgreSQL, Redis, nginx and headless chromium (own temp dirs, own
# loopback ports; SQLite needs nothing), so this script only makes sure the binaries are installed. When something is missing it installs it
# with apt-get as root, or, when not root, prints the apt-get line to run and exits 1. Services that the
# Debian packages would start on their default ports are kept from starting; the tests never use them.
#
# The last line of output is always "Tests: N passed, N failed". Exit status is non-zero when the build or
# any test failed, when no test ran, or when docker-compose.yml does not validate.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# Whatever ends this script early (missing packages, a failed apt-get), the CI still gets its summary line.
summary_printed=false
temp_policy=""
on_exit() {
    [[ -n "$temp_policy" ]] && rm -f "$temp_policy"
    if [[ "$summary_printed" != true ]]; then
        echo "Tests: 0 passed, 0 failed"
    fi
}
trap on_exit EXIT
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

# ---------------------------------------------------------------------------------------------------------
# 1. Server binaries the integration tests start.
# ---------------------------------------------------------------------------------------------------------
have_postgres() {
    compgen -G '/usr/lib/postgresql/*/bin/initdb' > /dev/null || command -v initdb > /dev/null
}

have_mariadb() {
    command -v mariadbd > /dev/null && command -v mariadb-install-db > /dev/null
}

have_nginx_stream() {
    # Debian ships the stream module as a dynamic module (libnginx-mod-stream); other builds may compile it in.
    [[ -f /usr/lib/nginx/modules/ngx_stream_module.so ]] && return 0
    command -v nginx > /dev/null || return 1
    local configure
    configure="$(nginx -V 2>&1)"
    [[ "$configure" =~ --with-stream( |$) ]]
}

missing=()
have_mariadb || missing+=(mariadb-server)
have_postgres || missing+=(postgresql)
command -v redis-server > /dev/null || missing+=(redis-server)
command -v nginx > /dev/null || missing+=(nginx-light)
have_nginx_stream || missing+=(libnginx-mod-stream)
# The browser tests drive Debian's chromium headless (Playwright's driver comes with its NuGet package; no browser is downloaded).
command -v chromium > /dev/null || missing+=(chromium)
# The JavaScript client's tests run under Node (18 or later) with one dev dependency from the npm registry.
command -v node > /dev/null || missing+=(nodejs)
command -v npm > /dev/null || missing+=(npm)
if [[ -f docker-compose.yml ]] && ! command -v docker-compose > /dev/null; then
    missing+=(docker-compose)
fi

if ((${#missing[@]} > 0)); then
    install=(apt-get install -y --no-install-recommends "${missing[@]}")
    if [[ "$(id -u)" != 0 ]]; then
        echo "Missing: ${missing[*]}. Install them with:" >&2
        echo "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive ${install[*]}" >&2
        exit 1
    fi

    echo "Installing ${missing[*]} ..."
    # Keep the packages' own service instances (MariaDB on 3306, PostgreSQL on 5432, Redis on 6379, nginx on 80)
    # from starting: the tests never use them, and a busy default port must not fail the install. policy-rc.d is Debian's
    # switch for that; an existing one (Docker images ship one) is left alone.
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        temp_policy=/usr/sbin/policy-rc.d
        printf '#!/bin/sh\nexit 101\n' > "$temp_policy"
        chmod 755 "$temp_policy"
    fi
    apt-get update
    DEBIAN_FRONTEND=noninteractive "${install[@]}"
    if [[ -n "$temp_policy" ]]; then
        rm -f "$temp_policy"
        temp_policy=""
    fi

    still_missing=()
    have_mariadb || still_missing+=(mariadb-server)
    have_postgres || still_missing+=(postgresql)
    command -v redis-server > /dev/null || still_missing+=(redis-server)
    have_nginx_stream || still_missing+=(nginx-light libnginx-mod-stream)
    command -v chromium > /dev/null || still_missing+=(chromium)
    if ((${#still_missing[@]} > 0)); then
        echo "Still missing after apt-get install: ${still_missing[*]}" >&2
        exit 1
    fi
fi

# ---------------------------------------------------------------------------------------------------------
# 1b. A local S3-compatible server for the S3 file store's tests (no S3 service is reachable): s3rver from the npm
#     registry, into .test-tools/ (git-ignored). The tests start it on a free loopback port (S3Server.cs).
# ---------------------------------------------------------------------------------------------------------
s3rver_version=3.7.1
if [[ ! -x .test-tools/node_modules/.bin/s3rver ]] || ! grep -q "\"version\": \"$s3rver_version\"" .test-tools/node_modules/s3rver/package.json 2>/dev/null; then
    if ! command -v npm > /dev/null; then
        if [[ "$(id -u)" != 0 ]]; then
            echo "Missing: npm. Install it with: sudo apt-get install -y nodejs npm" >&2
            exit 1
        fi
        apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm
    fi
    echo "Installing s3rver $s3rver_version into .test-tools/ ..."
    mkdir -p .test-tools
    npm install --prefix .test-tools --no-audit --no-fund --no-save "s3rver@$s3rver_version"
fi
export CHAT_TEST_S3RVER="$repo_root/.test-tools/node_modules/.bin/s3rver"

# ---------------------------------------------------------------------------------------------------------
# 2. docker-compose.yml must at least parse (no Docker engine here: validation only).
# ---------------------------------------------------------------------------------------------------------
compose_status=0
if [[ -f docker-compose.yml ]]; then
    if docker-compose -f docker-compose.yml config -q; then
        echo "docker-compose.yml: valid"
    else
        compose_status=1
        echo "docker-compose.yml: INVALID (docker-compose -f docker-compose.yml config -q failed)" >&2
    fi
fi

# ---------------------------------------------------------------------------------------------------------
# 2b. The JavaScript client's dev dependencies (ws: Node 20 has no WebSocket of its own), as package-lock.json pins them.
# ---------------------------------------------------------------------------------------------------------
if ! (cd clients/js && npm ci --no-audit --no-fund --loglevel=error); then
    echo "npm ci in clients/js failed: the JS client's tests will fail" >&2
fi

# ---------------------------------------------------------------------------------------------------------
# 3. Build and test. TRX files give exact counts whatever the console verbosity.
# ---------------------------------------------------------------------------------------------------------
results_dir="$repo_root/TestResults/run-$(date +%Y%m%d-%H%M%S)-$$"
mkdir -p "$results_dir"

# Fault tests append what they counted (sent, accepted, delivered, lost) here; printed below.
export CHAT_TEST_REPORT="$results_dir/counts.txt"
test_status=0
dotnet test Chat.sln -c Release --logger "trx" --results-directory "$results_dir" "$@" || test_status=$?
if [[ -s "$CHAT_TEST_REPORT" ]]; then
    echo "Counted by the fault tests:"
    sed 's/^/  /' "$CHAT_TEST_REPORT"
fi

passed=0
failed=0
skipped=0
shopt -s nullglob
trx_files=("$results_dir"/*.trx "$results_dir"/*/*.trx)
shopt -u nullglob
# counter NAME COUNTERS_ELEMENT: the value of attribute NAME, e.g. counter passed '<Counters passed="3" ... />'
counter() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<< "$2"; }
for trx in "${trx_files[@]}"; do
    # <Counters total="42" executed="42" passed="42" failed="0" ... notExecuted="0" ... />
    counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1 || true)"
    p="$(counter passed "$counters")"
    f="$(counter failed "$counters")"
    s="$(counter notExecuted "$counters")"
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
    skipped=$((skipped + ${s:-0}))
done

status=0
if ((test_status != 0)); then
    echo "dotnet test failed (exit code $test_status)." >&2
    status=$test_status
fi
if ((passed + failed == 0)); then
    echo "No test ran: that is a failure." >&2
    status=1
fi
if ((compose_status != 0)); then
    status=1
fi
if ((failed > 0 && status == 0)); then
    status=1
fi
if ((skipped > 0)); then
    echo "Skipped or not executed: $skipped"
fi
echo "TRX results: $results_dir"
echo "Tests: $passed passed, $failed failed"
summary_printed=true
exit "$status"
