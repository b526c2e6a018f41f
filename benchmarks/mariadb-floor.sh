#!/usr/bin/env bash
# What MariaDB alone costs for a durable batch of chat messages, with no Chat process involved (BENCHMARKS.md,
# "What MariaDB alone costs"): a throwaway MariaDB with the cluster's settings (innodb_flush_log_at_trx_commit=1,
# doublewrite, no binlog) on a free loopback port, the messages and conversations tables as the migrations make them,
# and the `mariadb` client sending transactions over TCP one after another (each line one packet, as MySqlConnector
# sends a multi-statement command). For each batch size and shape: MariaDB's CPU (utime + stime from /proc) and the
# wall time per transaction, and MariaDB's CPU per message.
#   shapes: insert = one multi-row INSERT of the batch, autocommit (the least a durable store of it can do);
#           seq    = the least a gapless log can do: the conversations upsert allocating the batch's seqs (RETURNING
#                    them) and the messages insert, one transaction in two packets (the writer's statements without
#                    its append mark);
#           marks  = the writer's two packets until issue 25 (isolation level set, open, conversations upsert and
#                    read-back; messages insert, the batch's mark inserted, an old mark deleted, COMMIT);
#           chat   = the writer's two packets now (open, conversations upsert RETURNING the seqs; messages insert,
#                    the batch's mark, COMMIT; the lane's old marks deleted once every 64 batches).
#   benchmarks/mariadb-floor.sh [transactions per case (2000)] [batch sizes ("1 12 25 50")]
set -euo pipefail
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
command -v mariadbd > /dev/null || { echo "mariadb-server is not installed (scripts/test.sh installs it)" >&2; exit 1; }
transactions="${1:-2000}"
sizes="${2:-1 12 25 50}"

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
work="$(mktemp -d /tmp/chat-mariadb-floor-XXXXXX)"
port="$(free_port)"
trap 'stop_mariadb; rm -rf "$work"' EXIT
start_mariadb "$work" "$port"
pid="$mariadb_pid"
sql() { mariadb --no-defaults -h 127.0.0.1 -P "$port" -u root "$@"; }
sql -e "CREATE DATABASE chat; USE chat;
    CREATE TABLE conversations (id bigint NOT NULL PRIMARY KEY, last_seq bigint NOT NULL);
    CREATE TABLE messages (conversation_id bigint NOT NULL, seq bigint NOT NULL, sender_id int NOT NULL,
        sender_name varchar(64) NOT NULL, body longtext NOT NULL, client_time varchar(64) NOT NULL, ts bigint NOT NULL,
        client_id varchar(64) NULL, kind smallint NOT NULL, ref_seq bigint NULL, reply_seq bigint NULL,
        edited_ts bigint NULL, recalled tinyint(1) NOT NULL DEFAULT 0, reactions longtext NULL,
        PRIMARY KEY (conversation_id, seq), UNIQUE KEY ux_messages_sender_id_client_id (sender_id, client_id), KEY ix_messages_ts (ts));
    CREATE TABLE append_marks (lane_id bigint NOT NULL, batch bigint NOT NULL, created_at bigint NOT NULL, seqs longtext NOT NULL,
        PRIMARY KEY (lane_id, batch))"

# One line per transaction: batch n holds one message of each of n conversations (the seed workload's pairs).
script() {
    python3 - "$1" "$2" "$transactions" << 'PY'
import sys
shape, n, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
print("DELIMITER //")
if shape in ("chat", "seq"):
    print("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED //")
for t in range(count):
    convs = [(1 << 32) * (1000 + c) + 2000 + c for c in range(n)]
    rows = ", ".join(f"({c}, {t + 1}, {1000 + i}, 'u{1000 + i}', '{t} xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', '2026-11-30 10:00:00', {1796000000000 + t}, NULL, 0, NULL, NULL)"
                     for i, c in enumerate(convs))
    insert = f"INSERT INTO messages (conversation_id, seq, sender_id, sender_name, body, client_time, ts, client_id, kind, ref_seq, reply_seq) VALUES {rows}"
    upsert = ("INSERT INTO conversations (id, last_seq) VALUES " + ", ".join(f"({c}, 1)" for c in convs)
              + " ON DUPLICATE KEY UPDATE last_seq = last_seq + VALUES(last_seq)")
    mark = f"INSERT INTO append_marks (lane_id, batch, created_at, seqs) VALUES (7, {t + 1}, 1796000000000, '" + ",".join(f"{i + 1}:{t + 1}" for i in range(n)) + "')"
    if shape == "insert":
        print(f"{insert} //")
    elif shape == "marks":
        ids = ", ".join(str(c) for c in convs)
        print(f"SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION; {upsert}; SELECT id, last_seq FROM conversations WHERE id IN ({ids}) //")
        print(f"{insert}; {mark}; DELETE FROM append_marks WHERE lane_id = 7 AND batch = {t + 1 - 64}; COMMIT //")
    elif shape == "seq":
        print(f"START TRANSACTION; {upsert} RETURNING id, last_seq //")
        print(f"{insert}; COMMIT //")
    else:
        print(f"START TRANSACTION; {upsert} RETURNING id, last_seq //")
        prune = f"; DELETE FROM append_marks WHERE lane_id = 7 AND batch <= {t + 1 - 64}" if (t + 1) % 64 == 0 else ""
        print(f"{insert}; {mark}{prune}; COMMIT //")
PY
}

cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz="$(getconf CLK_TCK)"
printf '%-7s %6s %14s %15s %14s\n' shape batch "CPU µs/txn" "wall µs/txn" "CPU µs/msg"
for n in $sizes; do
    for shape in insert seq marks chat; do
        script "$shape" "$n" > "$work/run.sql"
        sql chat -e "DELETE FROM messages; DELETE FROM conversations; DELETE FROM append_marks"
        before="$(cpu)"
        started="$(date +%s%N)"
        sql chat < "$work/run.sql" > /dev/null
        ended="$(date +%s%N)"
        after="$(cpu)"
        awk -v s="$shape" -v n="$n" -v t="$transactions" -v c=$((after - before)) -v w=$((ended - started)) -v hz="$hz" \
            'BEGIN { printf "%-7s %6d %14.0f %15.0f %14.1f\n", s, n, c * 1e6 / hz / t, w / 1e3 / t, c * 1e6 / hz / t / n }'
    done
done
