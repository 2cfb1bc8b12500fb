#!/usr/bin/env bash
# Writes schema5_fixture.sql, the database the migration-6 test starts from: a ledger written by
# the last build before migration 6 (commit b7f4612), through its own server and jobs, dumped as
# SQL text. Kept for the record; the test never runs it.
#   git worktree add --detach /tmp/b7f4612 b7f4612 && cmake -S /tmp/b7f4612 -B /tmp/b7f4612/build \
#     -DCMAKE_BUILD_TYPE=Release -DLOYALTY_TESTS=OFF && cmake --build /tmp/b7f4612/build --target loyalty
#   tests/unit/ledger/data/make_schema5_fixture.sh /tmp/b7f4612/build/loyalty
set -euo pipefail
loyalty=$1
here=$(cd "$(dirname "$0")" && pwd)
program="$here/../../../../config/program.yaml"
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
db="$work/fixture.db"
"$loyalty" migrate --db "$db" >/dev/null
admin=$("$loyalty" keys create --db "$db" --role admin --name fixture)
"$loyalty" serve --db "$db" --program "$program" --listen 127.0.0.1:0 --jobs-interval 0 --web "" \
  >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do
  port=$(grep -o 'on http://127.0.0.1:[0-9]*' "$work/serve.log" | grep -o '[0-9]*$' || true)
  [[ -n "$port" ]] && break
  sleep 0.1
done
post() { # path body
  curl -sf -X POST "localhost:$port$1" -H "Authorization: Bearer $admin" \
    -H 'Content-Type: application/json' -d "$2" >/dev/null
}
ago() { date -u -d "-$1 days" +%FT%TZ; }
month=$(date -u +%m)
post /v1/members '{"member_id": "m-1", "name": "Ada", "email": "ada@example.com", "birthday": "1990-'"$month"'-15"}'
for m in m-2 m-3 m-4 m-6; do post /v1/members '{"member_id": "'$m'"}'; done
post /v1/members '{"member_id": "m-5", "name": "Bo \"the\" friend", "referred_by": "m-1"}'
purchase() { # id member when channel lines
  post /v1/transactions '{"transaction_id": "'$1'", "member_id": "'$2'", "store_id": "s-1",
    "channel": "'$4'", "occurred_at": "'$3'", "currency": "USD", "lines": '"$5"'}'
}
purchase t-1 m-1 "$(ago 40)" store '[{"line_id": "1", "sku": "BEANS", "category": "beans", "quantity": 10, "unit_price": 3000}]'
purchase t-2 m-2 "$(ago 39)" app '[{"line_id": "1", "sku": "LATTE", "category": "coffee", "quantity": 2, "unit_price": 525},
  {"line_id": "2", "sku": "CROISSANT", "category": "bakery", "quantity": 3, "unit_price": 375, "discount": 100},
  {"line_id": "3", "sku": "GIFT", "category": "gift_card", "quantity": 1, "unit_price": 2500}]'
purchase t-3 m-3 "$(ago 38)" store '[{"line_id": "1", "sku": "LATTE", "category": "coffee", "quantity": 4, "unit_price": 525},
  {"line_id": "2", "sku": "MUFFIN", "category": "bakery", "quantity": 2, "unit_price": 300}]'
purchase t-4 m-5 "$(ago 37)" web '[{"line_id": "1", "sku": "BEANS", "category": "beans", "quantity": 2, "unit_price": 1800}]'
purchase t-5 m-2 "$(ago 36)" store '[{"line_id": "1", "sku": "BEANS", "category": "beans", "quantity": 3, "unit_price": 1800}]'
"$loyalty" jobs run --db "$db" --now "$(ago 1)" >/dev/null
post /v1/members/m-1/redemptions '{"redemption_id": "red-1", "reward_id": "mug"}'
post /v1/members/m-2/redemptions '{"redemption_id": "pay-1", "points": 100, "transaction_id": "t-9", "purchase_total": 1000}'
post /v1/transactions/t-3/returns '{"return_id": "ret-1", "store_id": "s-1", "lines": [{"line_id": "1", "quantity": 1}]}'
post /v1/members/m-4/adjustments '{"adjustment_id": "adj-1", "points": 70, "reason": "goodwill", "note": "spilled latte"}'
post /v1/redemptions/red-1/cancel '{}'
post /v1/members/m-1/redemptions '{"redemption_id": "red-2", "reward_id": "brewed_coffee"}'
post /v1/members/m-2/events '{"event_id": "ev-1", "type": "review_posted", "occurred_at": "'"$(ago 0)"'"}'
purchase t-6 m-4 "$(ago 0)" app '[{"line_id": "1", "sku": "LATTE", "category": "coffee", "quantity": 1, "unit_price": 525}]'
curl -sf -X POST "localhost:$port/v1/transactions" -H "Authorization: Bearer $admin" \
  -H 'Idempotency-Key: client-key-1' -H 'Content-Type: application/json' -d '{"transaction_id": "t-7",
  "member_id": "m-3", "store_id": "s-2", "channel": "store", "occurred_at": "'"$(ago 0)"'",
  "currency": "USD", "lines": [{"line_id": "1", "sku": "TEA", "category": "tea", "quantity": 1, "unit_price": 400}]}' >/dev/null
kill -TERM "$server"
wait "$server" || true
# Months later: the enrolment leaves and the first purchases' leaves expire (6 months, end of
# month), the rest stays open.
"$loyalty" jobs run --db "$db" --now "$(date -u -d '+150 days' +%FT%TZ)" >/dev/null
"$loyalty" verify --db "$db"
sqlite3 "$db" .dump >"$here/schema5_fixture.sql"
echo "wrote $here/schema5_fixture.sql ($(wc -l <"$here/schema5_fixture.sql") lines)"
