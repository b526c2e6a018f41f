# Sourced by the benchmark scripts here: a free loopback port, and a throwaway durable MariaDB with the cluster's
# settings (innodb_flush_log_at_trx_commit=1, doublewrite, no binlog, utf8mb4 with a binary collation).

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_mariadb DIR PORT: its files in DIR (created), root without a password on 127.0.0.1:PORT; returns once it
# answers, with its pid in mariadb_pid.
start_mariadb() {
    local dir="$1" port="$2" user=() attempt
    [[ "$(id -u)" == 0 ]] && user=(--user=root)
    mkdir -p "$dir"
    mariadb-install-db --no-defaults --datadir="$dir/data" "${user[@]}" --auth-root-authentication-method=normal \
        --skip-test-db > "$dir/install.log" 2>&1
    mariadbd --no-defaults --datadir="$dir/data" "${user[@]}" --port="$port" --bind-address=127.0.0.1 \
        --socket="$dir/my.sock" --pid-file="$dir/my.pid" --log-error="$dir/my.log" --skip-log-bin \
        --innodb-flush-log-at-trx-commit=1 --innodb-doublewrite=1 --character-set-server=utf8mb4 \
        --collation-server=utf8mb4_bin --max-connections=300 < /dev/null > /dev/null 2>&1 &
    mariadb_pid=$!
    for attempt in $(seq 100); do
        mariadb --no-defaults -h 127.0.0.1 -P "$port" -u root -e 'SELECT 1' > /dev/null 2>&1 && return 0
        ((attempt < 100)) && sleep 0.2
    done
    echo "MariaDB did not answer on port $port: see $dir/my.log" >&2
    return 1
}

# Stops the MariaDB start_mariadb started (by its pid) and waits until it is gone.
stop_mariadb() {
    if [[ -n "${mariadb_pid:-}" ]] && kill -TERM "$mariadb_pid" 2> /dev/null; then
        while kill -0 "$mariadb_pid" 2> /dev/null; do sleep 0.2; done
    fi
}
