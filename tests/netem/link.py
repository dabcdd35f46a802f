#!/usr/bin/env python3
"""A shaped link between two network namespaces, emulated at the packet level.

Used by tests/bench-netem.sh where the kernel has no `netem` qdisc (this
project's VMs: CONFIG_NET_SCH_NETEM is not set). It opens two TUN devices,
`fqlnk-s` and `fqlnk-p` (the script then moves one into each namespace), and
relays IP packets between them, each direction on its own, with:

- a rate: a packet leaves after the previous one has been serialised
  (len * 8 / rate), the queue holding at most --queue packets (more: dropped,
  as a bottleneck router's buffer would);
- a one-way delay added to every packet;
- random loss, each packet dropped with probability --loss;
- cuts: every --cut-every seconds the link drops everything for --cut-for
  seconds (the first cut --cut-every seconds after start).

TCP on both ends sees real losses, real round trips and a real bottleneck.
Prints "ready" once the devices exist; stops on SIGTERM or after --max-secs,
printing what it relayed and dropped.
"""

import argparse
import fcntl
import heapq
import os
import random
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def open_tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH22x", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


class Direction:
    """One direction of the link: a bottleneck queue, a delay, loss."""

    def __init__(self, out_fd, rate_bps, delay, loss, queue, rng):
        self.out_fd = out_fd
        self.rate = rate_bps
        self.delay = delay
        self.loss = loss
        self.queue = queue
        self.rng = rng
        self.free_at = 0.0  # when the bottleneck finishes the last packet queued
        self.in_queue = []  # departure times of packets still being serialised
        self.sent = self.lost = self.overflow = self.cut = 0

    def offer(self, pkt, now, pending, is_cut):
        if is_cut:
            self.cut += 1
            return
        while self.in_queue and self.in_queue[0] <= now:
            heapq.heappop(self.in_queue)
        if len(self.in_queue) >= self.queue:
            self.overflow += 1
            return
        if self.rng.random() < self.loss:
            self.lost += 1
            return
        start = max(now, self.free_at)
        done = start + (len(pkt) * 8 / self.rate if self.rate > 0 else 0.0)
        self.free_at = done
        heapq.heappush(self.in_queue, done)
        heapq.heappush(pending, (done + self.delay, id(pkt), self, pkt))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate-kbit", type=float, required=True, help="0: unlimited")
    ap.add_argument("--delay-ms", type=float, required=True, help="one way")
    ap.add_argument("--loss", type=float, required=True, help="0.02 = 2 %%")
    ap.add_argument("--queue", type=int, default=100, help="packets")
    ap.add_argument("--cut-every", type=float, default=0.0, help="seconds; 0: never")
    ap.add_argument("--cut-for", type=float, default=2.0, help="seconds")
    ap.add_argument("--seed", type=int, default=24)
    ap.add_argument("--max-secs", type=float, default=3600.0)
    a = ap.parse_args()

    a_fd, b_fd = open_tun("fqlnk-s"), open_tun("fqlnk-p")
    rng = random.Random(a.seed)
    rate = a.rate_kbit * 1000
    to_b = Direction(b_fd, rate, a.delay_ms / 1000, a.loss, a.queue, rng)
    to_a = Direction(a_fd, rate, a.delay_ms / 1000, a.loss, a.queue, rng)
    pending = []
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    start = time.monotonic()
    print("ready", flush=True)

    def is_cut(now):
        if a.cut_every <= 0:
            return False
        t = now - start
        return t >= a.cut_every and (t % a.cut_every) < a.cut_for

    while not stop and time.monotonic() - start < a.max_secs:
        now = time.monotonic()
        timeout = 0.5
        if pending:
            timeout = max(0.0, min(timeout, pending[0][0] - now))
        try:
            ready, _, _ = select.select([a_fd, b_fd], [], [], timeout)
        except InterruptedError:
            continue
        now = time.monotonic()
        cut = is_cut(now)
        for fd in ready:
            for _ in range(64):
                try:
                    pkt = os.read(fd, 65536)
                except BlockingIOError:
                    break
                except OSError:
                    break
                (to_b if fd == a_fd else to_a).offer(pkt, now, pending, cut)
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            _, _, d, pkt = heapq.heappop(pending)
            try:
                os.write(d.out_fd, pkt)
                d.sent += 1
            except OSError:
                pass
    for name, d in (("server->phone", to_b), ("phone->server", to_a)):
        print(
            f"{name}: sent {d.sent}, lost {d.lost}, queue overflow {d.overflow}, during cuts {d.cut}",
            file=sys.stderr,
            flush=True,
        )


if __name__ == "__main__":
    main()
