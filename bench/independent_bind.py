#!/usr/bin/env python3
"""An independent load generator for complete binds (Python asyncio +
aiohttp, no Bangka code): checks `bangka bench --scenario bind` against a
second implementation of the same work.

Each virtual user, over and over: create an account with a population
card's phone, pass KYC, start the bind, read the code from the demo inbox,
confirm. One complete bind is the 5 requests, timed as one.

    python3 -m pip install aiohttp
    python3 bench/independent_bind.py --target http://127.0.0.1:8080 --concurrency 64 --duration 10

Prints one JSON line like the harness: {"scenario","requests","rps","p50_ms","p99_ms","max_ms","errors"}.
"""

import argparse
import asyncio
import json
import random
import re
import time

import aiohttp


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", default="http://127.0.0.1:8080")
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--duration", type=float, default=10.0)
    args = ap.parse_args()
    base = args.target.rstrip("/")
    conn = aiohttp.TCPConnector(limit=args.concurrency + 4)
    async with aiohttp.ClientSession(connector=conn) as s:
        async with s.post(f"{base}/v1/demo/keys", json={}) as r:
            key = (await r.json())["key"]
        async with s.get(f"{base}/v1/demo/population?offset=0&limit=1") as r:
            total = int(r.headers["x-total-count"])
        auth = {"authorization": f"Bearer {key}"}
        next_offset = [random.randrange(total)]
        cards = []
        lock = asyncio.Lock()

        async def card():
            async with lock:
                if not cards:
                    off = next_offset[0] % total
                    next_offset[0] += 500
                    async with s.get(f"{base}/v1/demo/population?offset={off}&limit={min(500, total - off)}") as r:
                        cards.extend(reversed((await r.json())["data"]))
                return cards.pop()

        async def post(path, body):
            async with s.post(base + path, json=body, headers=auth) as r:
                return r.status, await r.json()

        times, errors = [], [0]
        deadline = time.monotonic() + args.duration

        async def user():
            while time.monotonic() < deadline:
                c = await card()
                t = time.monotonic()
                try:
                    st, acc = await post("/v1/accounts", {"phone_verified_by": "wallet", "phone": c["phone"]})
                    if st == 409:
                        continue  # an earlier run signed this holder up
                    assert st == 201, acc
                    a = acc["id"]
                    st, v = await post(f"/v1/accounts/{a}/kyc", {"real_name": c["holder_name"], "id_number": c["id_number"]})
                    assert st == 200, v
                    bind = {k: c[k] for k in ("card_number", "holder_name", "id_number", "phone")}
                    st, b = await post(f"/v1/accounts/{a}/bindings", bind)
                    assert st == 202, b
                    async with s.get(f"{base}/v1/demo/inbox/{c['phone']}", headers=auth) as r:
                        body = (await r.json())["messages"][0]["body"]
                    code = re.search(r"(\d{6})", body).group(1)
                    st, done = await post(f"/v1/accounts/{a}/bindings/{b['id']}/confirm", {"otp": code})
                    assert st == 200 and done["status"] == "active", done
                    times.append(time.monotonic() - t)
                except Exception:
                    errors[0] += 1

        started = time.monotonic()
        await asyncio.gather(*(user() for _ in range(args.concurrency)))
        elapsed = time.monotonic() - started
    times.sort()
    pct = lambda p: round(times[max(0, int(len(times) * p + 0.999999) - 1)] * 1000, 2) if times else 0.0
    print(json.dumps({
        "scenario": "bind", "generator": "python-aiohttp", "requests": len(times), "rps": round(len(times) / elapsed, 2),
        "p50_ms": pct(0.5), "p99_ms": pct(0.99), "max_ms": round(times[-1] * 1000, 2) if times else 0.0, "errors": errors[0],
    }))


if __name__ == "__main__":
    asyncio.run(main())
