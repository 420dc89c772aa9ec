#!/usr/bin/python3
"""Bounded load on tokenscope-introspect over loopback.

usage: introspect_load.py PORT BASIC_AUTH TOKEN DAEMON_PID [CONNS] [REQS] [ROUNDS]
CONNS keep-alive connections at once, each sending REQS requests, ROUNDS
times; the first round warms up. Every request must come back 200 with
"active":true (nothing lost, nothing refused), and the
daemon's RSS after the last round must be within 10% + 2 MiB of the largest
after the first two (which size the allocator's arenas). Prints TAP and one summary line.
"""
import asyncio
import os
import sys
import time

port, auth, token, pid = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
conns = int(sys.argv[5]) if len(sys.argv) > 5 else 400
reqs = int(sys.argv[6]) if len(sys.argv) > 6 else 10
rounds = int(sys.argv[7]) if len(sys.argv) > 7 else 6
HANG = 900  # seconds: the whole run, as a guard against a hung server
body = ("token=" + token).encode()
REQ = (b"POST /introspect/dovecot HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + auth.encode()
       + b"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n" % len(body)
       + body)


def rss_kib():
    for line in open("/proc/%s/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


async def one_conn(stats):
    try:
        r, w = await asyncio.open_connection("127.0.0.1", int(port))
    except OSError as e:
        stats["errors"] += reqs
        stats["why"].add("connect: %s" % e)
        return
    try:
        for _ in range(reqs):
            w.write(REQ)
            await w.drain()
            head = await r.readuntil(b"\r\n\r\n")
            status = head.split(b" ", 2)[1]
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            data = await r.readexactly(length)
            if status == b"200" and b'"active":true' in data:
                stats["ok"] += 1
            else:
                stats["errors"] += 1
                stats["why"].add(status.decode())
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as e:
        stats["errors"] += 1
        stats["why"].add(type(e).__name__)
    finally:
        w.close()


async def round_():
    stats = {"ok": 0, "errors": 0, "why": set()}
    await asyncio.gather(*(one_conn(stats) for _ in range(conns)))
    return stats


async def main():
    t0 = time.time()
    out = []
    rss = []
    for i in range(rounds):
        # a guard against a hung server, not a speed requirement: make
        # check has no timing thresholds, and a starved CPU was seen to
        # need 119 s for the whole run
        out.append(await asyncio.wait_for(round_(), timeout=HANG))
        await asyncio.sleep(0.5)  # the closed connections' buffers are returned
        rss.append(rss_kib())
        if time.time() - t0 > HANG:
            break
    return out, rss, time.time() - t0


results, rss, took = asyncio.run(main())
total_ok = sum(s["ok"] for s in results)
total_err = sum(s["errors"] for s in results)
want = conns * reqs * rounds
why = set().union(*(s["why"] for s in results))
print("ok 1 - load_%d_connections_x_%d_requests_x_%d_rounds_no_error (%d ok, %d errors %s)"
      % (conns, reqs, rounds, total_ok, total_err, sorted(why)) if total_err == 0 else
      "not ok 1 - load_no_error (%d ok, %d errors %s)" % (total_ok, total_err, sorted(why)))
print(("ok" if total_ok == want else "not ok") + " 2 - load_no_lost_request (%d of %d)" % (total_ok, want))
# the first two rounds grow the allocator's per-thread arenas to their
# working size; after the last round (its connections closed) RSS must be
# back within 10% + 2 MiB of that: a leak of 1 KiB per request would add
# 4 MiB a round, 16 MiB by the end. A round in between may stand higher for
# a moment (an arena not yet trimmed was seen at +10 MiB once, gone a round
# later), so it is reported, not judged.
flat = len(rss) >= 3 and rss[-1] <= max(rss[:2]) * 1.10 + 2048
if os.environ.get("TS_SANITIZERS"):
    # ASan holds freed memory in its quarantine (256 MiB by default), so
    # RSS climbs until that fills whatever the daemon does; its own leak
    # check covers this build, and the plain build holds RSS flat
    print("ok 3 - load_rss_flat # SKIP under ASan (quarantine): %s" % rss)
    flat = True
else:
    print(("ok" if flat else "not ok") + " 3 - load_rss_flat (KiB after each round: %s)" % rss)
print(("ok" if took < HANG else "not ok") + " 4 - load_finished_not_hung (%.1f s, %.0f requests/s)"
      % (took, total_ok / took if took else 0))
print("1..4")
sys.exit(0 if total_err == 0 and total_ok == want and flat and took < HANG else 1)
