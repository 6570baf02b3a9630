#!/usr/bin/env python3
"""Load harness: the latency of paying with a bound card against a running
Bangka server with demo endpoints on.

    bangka keys create --mode test --role wallet | tail -1   # -> KEY
    python3 bench/payment_latency.py --base http://127.0.0.1:8080 --key KEY --n 100

Binds `ok_debit` to a fresh account and sets a payment password, then N
times: a cryptogram (confirmed with the payment password: one argon2id
verification, slow by design), the payment (authorization at the simulated
bank), a capture and a refund of the whole amount (so the balance never runs
out). Reports p50/p95/max per step. Bounded: N iterations, then it stops.
"""
import argparse, json, random, re, statistics, time, urllib.request

from bind_latency import call, pct


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="http://127.0.0.1:8080")
    ap.add_argument("--key", required=True)
    ap.add_argument("--n", type=int, default=50)
    a = ap.parse_args()
    cards = call(a.base, a.key, "GET", "/v1/demo/cards?limit=100")[1]["data"]
    card = next(c for c in cards if c["scenario"] == "ok_debit")
    s, acc = call(a.base, a.key, "POST", "/v1/accounts", {"phone_verified_by": "wallet", "phone": "13%09d" % random.randrange(10**9)})
    assert s == 201, acc
    acc = acc["id"]
    call(a.base, a.key, "POST", f"/v1/accounts/{acc}/kyc", {"real_name": card["holder_name"], "id_number": card["id_number"]})
    body = {k: card[k] for k in ("card_number", "holder_name", "id_number", "phone")}
    s, b = call(a.base, a.key, "POST", f"/v1/accounts/{acc}/bindings", body)
    assert s == 202, b
    inbox = call(a.base, a.key, "GET", f"/v1/demo/inbox/{card['phone']}")[1]
    otp = re.search(r"\b(\d{6})\b", inbox["messages"][0]["body"]).group(1)
    s, c = call(a.base, a.key, "POST", f"/v1/accounts/{acc}/bindings/{b['id']}/confirm", {"otp": otp})
    assert s == 200, c
    s, p = call(a.base, a.key, "POST", f"/v1/accounts/{acc}/payment-password", {"password": "135790"})
    assert s == 200, p
    steps = {"cryptogram": [], "pay": [], "capture": [], "refund": []}
    terms = {"amount": 1234, "currency": "CNY", "merchant_id": "m_bench"}

    def timed(step, method, path, body, want):
        t0 = time.perf_counter()
        s, r = call(a.base, a.key, method, path, body)
        steps[step].append(time.perf_counter() - t0)
        assert s == want, (step, s, r)
        return r

    for _ in range(a.n):
        cg = timed("cryptogram", "POST", f"/v1/accounts/{acc}/bindings/{b['id']}/cryptograms", {**terms, "payment_password": "135790"}, 201)
        pay = timed("pay", "POST", "/v1/payments", {**terms, "token_number": cg["token_number"], "cryptogram": cg["cryptogram"]}, 201)
        timed("capture", "POST", f"/v1/payments/{pay['id']}/capture", {}, 200)
        timed("refund", "POST", f"/v1/payments/{pay['id']}/refund", {"amount": 1234}, 200)
    for name, xs in steps.items():
        print(f"{name:11s} n={len(xs)} p50={pct(xs, 50)*1000:.1f}ms p95={pct(xs, 95)*1000:.1f}ms max={max(xs)*1000:.1f}ms mean={statistics.mean(xs)*1000:.1f}ms")


if __name__ == "__main__":
    main()
