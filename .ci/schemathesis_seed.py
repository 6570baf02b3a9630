"""Seeds a running Bangka with one of everything an operation's path can
name (an account with a bound card, a payment, an autopay agreement, a
receipt, a ticket, a review, a session, an activation, a maintenance window,
an API key)
and prints them as shell exports, so schemathesis reaches every operation
with real ids instead of only ever getting 404 (.ci/schemathesis).

usage: schemathesis_seed.py BASE WALLET_KEY ADMIN_KEY MERCHANT_ID
"""

import json
import re
import sys
import urllib.request
from datetime import datetime, timedelta, timezone

base, wallet, admin, merchant = sys.argv[1:5]


def call(method, path, body=None, key=wallet):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("authorization", "Bearer " + key)
    req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raise SystemExit(f"seed: {method} {path} answered {e.code}: {e.read()[:300]!r}")


def code_for(phone):
    body = call("GET", f"/v1/demo/inbox/{phone}")["messages"][0]["body"]
    return re.search(r"\d{6}", body).group(0)


def id_check(body17):
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body17 + "10X98765432"[sum(int(c) * w for c, w in zip(body17, weights)) % 11]


cards = {c["scenario"]: c for c in call("GET", "/v1/demo/cards?limit=100")["data"]}
debit, fresh = cards["ok_debit"], cards["not_activated"]
acc = call("POST", "/v1/accounts", {"phone": "13500135000", "phone_verified_by": "wallet"})["id"]
call("POST", f"/v1/accounts/{acc}/kyc", {"real_name": debit["holder_name"], "id_number": debit["id_number"]})
call("POST", f"/v1/accounts/{acc}/payment-password", {"password": "135790"})
four = {k: debit[k] for k in ("card_number", "holder_name", "id_number", "phone")}
bid = call("POST", f"/v1/accounts/{acc}/bindings", four)["id"]
call("POST", f"/v1/accounts/{acc}/bindings/{bid}/confirm", {"otp": code_for(debit["phone"])})
terms = {"amount": 1234, "currency": "CNY", "merchant_id": merchant}
cg = call("POST", f"/v1/accounts/{acc}/bindings/{bid}/cryptograms", dict(terms, payment_password="135790"))
pid = call("POST", "/v1/payments", dict(terms, cryptogram=cg["cryptogram"], token_number=cg["token_number"]))["id"]
mandate = {"binding_id": bid, "merchant_id": merchant, "kind": "subscription", "max_amount": 3000, "currency": "CNY", "payment_password": "135790"}
mid = call("POST", f"/v1/accounts/{acc}/mandates", mandate)["id"]
rid = call("GET", f"/v1/accounts/{acc}/receipts")["data"][0]["receipt"]["id"]
number = call("POST", f"/v1/accounts/{acc}/tickets", {"binding_id": bid, "note": "seed"})["number"]
docs = [{"type": "id_front", "ref": "wallet://seed/f"}, {"type": "id_back", "ref": "wallet://seed/b"}]
review = {"kind": "info_change", "statement": "seed", "materials": docs, "real_name": "李四", "id_number": id_check("11010519850101001")}
rvid = call("POST", f"/v1/accounts/{acc}/reviews", review)["id"]
sid = call("POST", f"/v1/accounts/{acc}/sessions", {"device_id": "seed-phone", "device_name": "seed"})["session_id"]
act = {k: fresh[k] for k in ("card_number", "holder_name", "id_number", "phone")}
aid = call("POST", f"/v1/accounts/{acc}/activations", act)["id"]
now = datetime.now(timezone.utc)
window = {
    "issuer": "ABC",
    "starts_at": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "ends_at": (now + timedelta(days=1, hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "message": {"zh-CN": "演练维护。", "en": "Drill maintenance."},
}
wid = call("POST", "/v1/ops/maintenance-windows", window, key=admin)["id"]
kid = call("POST", "/v1/ops/keys", {"role": "wallet", "name": "seed"}, key=admin)["api_key"]["id"]

for name, value in {
    "BK_ACC": acc, "BK_BID": bid, "BK_PID": pid, "BK_MID": mid, "BK_RID": rid, "BK_TICKET": number, "BK_RVID": rvid,
    "BK_SID": sid, "BK_DID": "seed-phone", "BK_AID": aid, "BK_WID": wid, "BK_KID": kid, "BK_TOKEN": cg["token_number"],
    "BK_PHONE": debit["phone"],
}.items():
    print(f"export {name}={value}")
