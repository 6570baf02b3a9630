#!/usr/bin/env bash
# An independent load generator (wrk) reading one binding, against a server
# at $1 (default http://127.0.0.1:8080) in demo mode: makes a demo key,
# binds a population card, then `wrk -t2 -c64 -d10s` on
# GET /v1/accounts/{id}/bindings/{bid}.
set -euo pipefail
B=${1:-http://127.0.0.1:8080}
py() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
KEY=$(curl -sf -X POST "$B/v1/demo/keys" -H 'content-type: application/json' -d '{}' | py '["key"]')
CARD=$(curl -sf "$B/v1/demo/population?offset=$((RANDOM * 30))&limit=1" | py '["data"][0]' | tr "'" '"')
field() { echo "$CARD" | python3 -c "import ast,sys; print(ast.literal_eval(sys.stdin.read())['$1'])"; }
PHONE=$(field phone); NAME=$(field holder_name); ID=$(field id_number); PAN=$(field card_number)
H=(-H 'content-type: application/json' -H "authorization: Bearer $KEY")
ACC=$(curl -sf "$B/v1/accounts" "${H[@]}" -d "{\"phone_verified_by\":\"wallet\",\"phone\":\"$PHONE\"}" | py '["id"]')
curl -sf "$B/v1/accounts/$ACC/kyc" "${H[@]}" -d "{\"real_name\":\"$NAME\",\"id_number\":\"$ID\"}" > /dev/null
BID=$(curl -sf "$B/v1/accounts/$ACC/bindings" "${H[@]}" -d "{\"card_number\":\"$PAN\",\"holder_name\":\"$NAME\",\"id_number\":\"$ID\",\"phone\":\"$PHONE\"}" | py '["id"]')
OTP=$(curl -sf "$B/v1/demo/inbox/$PHONE" | python3 -c 'import json,re,sys; print(re.search(r"(\d{6})", json.load(sys.stdin)["messages"][0]["body"]).group(1))')
curl -sf "$B/v1/accounts/$ACC/bindings/$BID/confirm" "${H[@]}" -d "{\"otp\":\"$OTP\"}" > /dev/null
wrk -t2 -c64 -d10s --latency -H "authorization: Bearer $KEY" "$B/v1/accounts/$ACC/bindings/$BID"
