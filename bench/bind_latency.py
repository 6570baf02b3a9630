#!/usr/bin/env python3
"""Load harness: the latency of one bind (bind request, then OTP confirm)
against a running Bangka server with demo endpoints on.

    bangka keys create --mode test --role wallet | tail -1   # -> KEY
    python3 bench/bind_latency.py --base http://127.0.0.1:8080 --key KEY --n 100

Each iteration makes a fresh account (KYC'd as the demo holder), binds the
`ok_debit` test card, reads the code from the demo inbox and confirms.
Reports p50/p95/max of the bind request, the confirm request, and the sum.
Bounded: N iterations against a loopback server, then it stops.
"""
import argparse, json, random, re, statistics, time, urllib.request


def call(base, key, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("authorization", "Bearer " + key)
    if data is not None:
        req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="http://127.0.0.1:8080")
    ap.add_argument("--key", required=True)
    ap.add_argument("--n", type=int, default=50)
    a = ap.parse_args()
    cards = call(a.base, a.key, "GET", "/v1/demo/cards?limit=100")[1]["data"]
    card = next(c for c in cards if c["scenario"] == "ok_debit")
    body = {k: card[k] for k in ("card_number", "holder_name", "id_number", "phone")}
    binds, confirms = [], []
    for _ in range(a.n):
        s, acc = call(a.base, a.key, "POST", "/v1/accounts", {"phone_verified_by": "wallet", "phone": "13%09d" % random.randrange(10**9)})
        assert s == 201, acc
        call(a.base, a.key, "POST", f"/v1/accounts/{acc['id']}/kyc", {"real_name": card["holder_name"], "id_number": card["id_number"]})
        t0 = time.perf_counter()
        s, b = call(a.base, a.key, "POST", f"/v1/accounts/{acc['id']}/bindings", body)
        binds.append(time.perf_counter() - t0)
        assert s == 202, b
        inbox = call(a.base, a.key, "GET", f"/v1/demo/inbox/{card['phone']}")[1]
        otp = re.search(r"\b(\d{6})\b", inbox["messages"][0]["body"]).group(1)
        t0 = time.perf_counter()
        s, c = call(a.base, a.key, "POST", f"/v1/accounts/{acc['id']}/bindings/{b['id']}/confirm", {"otp": otp})
        confirms.append(time.perf_counter() - t0)
        assert s == 200 and c["status"] == "active", c
    total = [x + y for x, y in zip(binds, confirms)]
    for name, xs in (("bind", binds), ("confirm", confirms), ("bind+confirm", total)):
        print(f"{name:13s} n={len(xs)} p50={pct(xs, 50)*1000:.1f}ms p95={pct(xs, 95)*1000:.1f}ms max={max(xs)*1000:.1f}ms mean={statistics.mean(xs)*1000:.1f}ms")


if __name__ == "__main__":
    main()
