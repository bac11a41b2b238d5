"""`make load`: the local stack under a dealer group's working day, compressed.

Starts moto server (the local stack's patched emulator) and the counting proxy in processes of their
own (bench/_load_endpoint.py), and `leadline local` against them, then sets up `--stores` stores
(always open, an SMS number each, a short offer timeout, response targets, a new-lead cadence) with
`--agents` agents spread over them, and runs for `--minutes`:

- `--leads` leads arrive at random moments, from the JSON API (half), ADF XML posted by a provider
  with the store's X-Api-Key (a quarter) and SMS from unknown numbers (a quarter), each a new customer;
- customers write again (SMS) on some of their leads, and a few send STOP and later get nothing;
- agent bots work like people: they look at their offers every 5-10 s (their notifications every
  other time), think 3-15 s, then
  accept (78%), decline (12%) or let the offer time out (10%); after accepting they type a first
  answer (5-25 s); they answer customers' replies they are alerted of.

Afterwards it settles: waits (at most `--settle-bound` seconds, printing progress) until every work
queue is empty and no timer of the due index is overdue, and says how long that took. It then stops
the stack and reads what is TRUE from moto server's own port (bench/_load_check.py: a Scan of the
table, every queue's depth and, the stack stopped, the messages the queues still hold), and prints:

- each accepted request's lead: stored, still queued (its number in a message a work queue holds, or
  in flight there), dead-lettered, or LOST (none of these); every dead-letter message, listed;
- leads stored and owned, double owners (leads with more than one accepted offer), sends to opted-out
  customers (sandbox sends to a number after its STOP was stored);
- timer lateness: how late each timed-out offer was decided after its expiry (p50 / p99);
- p50 / p99 per route, as the bots measured them;
- AWS calls per lead end to end (counted at the proxy from the first arrival until settled), with
  and without the agents' polling, and by operation;
- the CPU the harness, the stack, moto and the proxy used, and the machine's load at start and end.

It exits non-zero when a lead is lost, a lead has two owners, an opted-out customer was sent to, or
a message was dead-lettered.

    .venv/bin/python bench/load.py [--leads 2000 --minutes 10 --stores 10 --agents 50]

The full size holds both cores for 10+ minutes; debug at small scale (`--leads 60 --minutes 1
--stores 2 --agents 6`)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import sys
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from _endpoint import LocalStack
from _load_check import Emulator, settle
from _load_endpoint import EndpointProcesses, cpu_seconds
from _load_report import failures, findings, print_summary
from endpoint_calls import ALWAYS_OPEN, twilio_signature

DOMAIN = "load-motors.com"
POLLS = {"GET /me/offers": "/me/offers", "GET /me/notifications": "/me/notifications?unread=true"}


@dataclass
class Timings:
    """Client-side latency per route template, and answers by status."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[str] = field(default_factory=Counter)

    def add(self, route: str, took: float, status: int) -> None:
        with self.lock:
            self.seconds[route].append(took)
            self.statuses[f"{route} {status}"] += 1


class Client:
    """HTTP to the stack, timed per route, retrying what a provider or a browser would retry."""

    def __init__(self, url: str, timings: Timings) -> None:
        import requests

        self.url, self.timings = url, timings
        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=64)
        self.session.mount("http://", adapter)

    def call(self, route: str, method: str, path: str, *, token: str | None = None, body: Any = None,
             data: Any = None, headers: dict[str, str] | None = None, retries: int = 3) -> Any:
        import requests

        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        for attempt in range(retries + 1):
            started = time.perf_counter()
            try:
                reply = self.session.request(method, self.url + path, json=body if data is None else None,
                                             data=data, headers=sent, timeout=60)
            except requests.RequestException:
                self.timings.add(route, time.perf_counter() - started, 599)
                time.sleep(1 + attempt)
                continue
            self.timings.add(route, time.perf_counter() - started, reply.status_code)
            if reply.status_code < 500 or attempt == retries:
                return reply
            time.sleep(1 + attempt)
        return None


@dataclass
class Sent:
    """A customer's request as the load sent it: which store, which contact, how."""

    account_id: str
    phone: str
    how: str  # json | adf | sms
    accepted: bool = False  # answered 2xx (an SMS: accepted by the webhook)
    opted_out_at: str | None = None


class Load:
    def __init__(self, stack: LocalStack, args: argparse.Namespace) -> None:
        from chalicelib.services.auth import mint_local_token
        from leadline.local.home import read_secret

        self.stack, self.args = stack, args
        self.rng = random.Random(args.seed)
        self.timings = Timings()
        self.client = Client(stack.url, self.timings)
        self.stop = threading.Event()
        self.sent: list[Sent] = []
        self.sent_lock = threading.Lock()
        boot = json.loads(stack.cli("bootstrap", "--group", "Load Motors", "--email", f"owner@{DOMAIN}",
                                    "--name", "Lee Load"))
        self.admin = boot["token"]
        secret = read_secret(stack.home)
        self.stores: list[dict[str, Any]] = []
        for i in range(args.stores):
            store = self._setup_store(i)
            self.stores.append(store)
        self.agents: list[tuple[str, str, str]] = []  # (user id, token, account id)
        for n in range(args.agents):
            store = self.stores[n % len(self.stores)]
            user = stack.http("POST", "/users", {"email": f"agent{n}@{DOMAIN}", "name": f"Agent {n}",
                                                 "role": "agent", "account_ids": [store["account_id"]]},
                              token=self.admin).json()
            self.agents.append((user["user_id"], mint_local_token(secret, user["user_id"], hours=24),
                                store["account_id"]))

    def _setup_store(self, i: int) -> dict[str, Any]:
        http, admin = self.stack.http, self.admin
        store = http("POST", "/accounts", {"name": f"Load Store {i + 1}", "timezone": "America/Chicago",
                                           "business_hours": ALWAYS_OPEN, "sms_number": f"+1312555{1000 + i:04d}"},
                     token=admin).json()
        account_id = store["account_id"]
        store["api_key"] = http("GET", f"/accounts/{account_id}", token=admin).json()["api_key"]
        http("PUT", f"/accounts/{account_id}/routing", {"offer_timeout_seconds": self.args.offer_timeout},
             token=admin)
        http("PUT", f"/accounts/{account_id}/response-targets", {
            "first_response_seconds": 120, "reply_seconds": 300, "warn_before_seconds": 30,
            "on_miss": "notify_managers", "business_hours_only": False}, token=admin)
        http("POST", f"/accounts/{account_id}/cadences", {
            "name": "New lead", "enroll": "new_lead", "match": {}, "assistant_name": "Ava",
            "steps": [{"after_seconds": 0, "phase": "first_touch", "channel": "auto",
                       "body": "Hi {{lead.first_name}}, thanks for contacting {{account.name}}!"},
                      {"after_seconds": 240, "phase": "follow_up", "channel": "auto",
                       "body": "Still looking, {{lead.first_name}}? Just reply here."}]}, token=admin)
        return store

    # -- customers ------------------------------------------------------------------------

    def sms(self, store: dict[str, Any], sender: str, body: str, serial: str) -> bool:
        url = self.stack.url + "/webhooks/twilio/sms"
        form = {"MessageSid": f"SM{serial:0>32}"[:34], "From": sender, "To": store["sms_number"], "Body": body,
                "NumMedia": "0", "AccountSid": "AC" + "0" * 32}
        reply = self.client.call("POST /webhooks/twilio/sms", "POST", "/webhooks/twilio/sms", data=urlencode(form),
                                 headers={"Content-Type": "application/x-www-form-urlencoded",
                                          "X-Twilio-Signature": twilio_signature(url, form)})
        return reply is not None and reply.status_code == 200

    def arrive(self, n: int, how: str) -> None:
        store = self.stores[n % len(self.stores)]
        account_id = store["account_id"]
        serial = self.args.seed * 100_000 + n  # a valid US mobile number of its own (exchange 200-999)
        phone = f"+1773{200 + serial // 10_000 % 800}{serial % 10_000:04d}"
        sent = Sent(account_id=account_id, phone=phone, how=how)
        with self.sent_lock:
            self.sent.append(sent)
        first, last = f"Pat{n}", f"Buyer{n}"
        if how == "json":
            reply = self.client.call("POST /accounts/{id}/leads", "POST", f"/accounts/{account_id}/leads",
                                     token=self.admin, body={"first_name": first, "last_name": last, "phone": phone,
                                                             "source": "Web", "channel": "web",
                                                             "message": "Is the blue one still there?"})
            sent.accepted = reply is not None and reply.status_code == 201
        elif how == "adf":
            document = ADF.format(first=first, last=last, phone=phone, id=f"load-{self.args.seed}-{n}")
            reply = self.client.call("POST /webhooks/leads/adf", "POST", f"/webhooks/leads/adf?account_id={account_id}",
                                     data=document.encode(), headers={"Content-Type": "application/xml",
                                                                      "X-Api-Key": store["api_key"]})
            sent.accepted = reply is not None and reply.status_code == 201
        else:
            sent.accepted = self.sms(store, phone, "Hi, do you have SUVs in stock?", f"{self.args.seed}1{n:08d}")
        if not sent.accepted:
            return
        # Some customers write again; a few opt out.
        roll = self.rng.random()
        if roll < 0.04:
            self.later(self.rng.uniform(10, 60), self.opt_out, store, sent, n)
        elif roll < 0.40:
            for k in range(self.rng.choice((1, 2))):
                self.later(self.rng.uniform(20, 150), self.sms, store, phone, "What's your best price?",
                           f"{self.args.seed}2{k}{n:08d}")

    def opt_out(self, store: dict[str, Any], sent: Sent, n: int) -> None:
        if self.sms(store, sent.phone, "STOP", f"{self.args.seed}3{n:08d}"):
            sent.opted_out_at = "stored"  # the stored STOP message's time is read back afterwards

    def later(self, delay: float, fn: Any, *args: Any) -> None:
        timer = threading.Timer(delay, self._fire, args=(fn, *args))
        timer.daemon = True
        self.timers.append(timer)
        timer.start()

    def _fire(self, fn: Any, *args: Any) -> None:
        if self.stop.is_set():
            return  # the run is over: a customer's late reply is not sent
        with contextlib.suppress(RuntimeError):  # the pool shut down as this timer fired
            self.pool.submit(fn, *args)

    # -- agents ---------------------------------------------------------------------------

    def agent(self, user_id: str, token: str, seed: int) -> None:
        rng = random.Random(seed)
        seen: set[str] = set()
        told: set[str] = set()
        polls = 0
        while not self.stop.is_set():
            reply = self.client.call("GET /me/offers", "GET", "/me/offers", token=token, retries=0)
            offers = reply.json().get("items", []) if reply is not None and reply.status_code == 200 else []
            for offer in offers:
                if offer["offer_id"] in seen or self.stop.is_set():
                    continue
                seen.add(offer["offer_id"])
                time.sleep(rng.uniform(3, 15))  # reads the lead, thinks
                roll = rng.random()
                if roll < 0.78:
                    done = self.client.call("POST /offers/{id}/accept", "POST", f"/offers/{offer['offer_id']}/accept",
                                            token=token, body={})
                    if done is not None and done.status_code == 200:
                        time.sleep(rng.uniform(5, 25))  # types a first answer
                        self.client.call("POST /leads/{id}/messages", "POST", f"/leads/{offer['lead_id']}/messages",
                                         token=token, body={"body": "Hi! It is here. Want to come see it today?"})
                elif roll < 0.90:
                    self.client.call("POST /offers/{id}/decline", "POST", f"/offers/{offer['offer_id']}/decline",
                                     token=token, body={"reason": "with a customer"})
            polls += 1
            notes = self.client.call("GET /me/notifications", "GET", "/me/notifications?unread=true", token=token,
                                     retries=0) if polls % 2 == 0 else None
            items = notes.json().get("items", []) if notes is not None and notes.status_code == 200 else []
            for note in items:
                if note.get("kind") == "customer_replied" and note["notification_id"] not in told:
                    told.add(note["notification_id"])
                    self.client.call("POST /leads/{id}/messages", "POST", f"/leads/{note['lead_id']}/messages",
                                     token=token, body={"body": "Good question, let me check the price for you."})
                    self.client.call("POST /me/notifications/{id}/read", "POST",
                                     f"/me/notifications/{note['notification_id']}/read", token=token, body={})
            self.stop.wait(rng.uniform(5, 10))  # a console's refresh

    def poll_calls(self, endpoint: EndpointProcesses, route: str) -> Counter[str]:
        """The AWS calls of one agent's poll of `route` on the quiet stack."""
        endpoint.settle_and_take(quiet=1.0, timeout=30)
        token = self.agents[0][1]
        self.stack.http("GET", POLLS[route], token=token)
        return endpoint.settle_and_take(quiet=1.0, timeout=30)

    # -- the run --------------------------------------------------------------------------

    def run(self) -> float:
        args = self.args
        self.pool = ThreadPoolExecutor(max_workers=24)
        self.timers: list[threading.Timer] = []
        bots = [threading.Thread(target=self.agent, args=(uid, token, i), daemon=True)
                for i, (uid, token, _) in enumerate(self.agents)]
        for bot in bots:
            bot.start()
        started = time.monotonic()
        span = args.minutes * 60
        moments = sorted(self.rng.uniform(0, span) for _ in range(args.leads))
        kinds = ["json", "json", "adf", "sms"]
        for n, at in enumerate(moments):
            wait = started + at - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self.pool.submit(self.arrive, n, kinds[self.rng.randrange(len(kinds))])
        # Let the last customers' replies and the agents' answers happen, then stop the bots.
        time.sleep(min(150.0, max(30.0, args.offer_timeout * 2)))
        self.stop.set()
        for timer in self.timers:
            timer.cancel()
        for bot in bots:
            bot.join(timeout=90)
        self.pool.shutdown(wait=True)
        return time.monotonic() - started


ADF = """<?xml version="1.0"?>
<?adf version="1.0"?>
<adf>
  <prospect>
    <id source="LoadProvider">{id}</id>
    <vehicle interest="buy" status="new"><year>2026</year><make>Kia</make><model>Telluride</model></vehicle>
    <customer>
      <contact><name part="first">{first}</name><name part="last">{last}</name><phone>{phone}</phone></contact>
      <comments>Is this one available for a test drive?</comments>
    </customer>
    <provider><name part="full">Load Provider</name></provider>
  </prospect>
</adf>
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--stores", type=int, default=10)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--offer-timeout", type=int, default=45, help="seconds (the stores' routing config)")
    parser.add_argument("--settle-bound", type=float, default=900, help="seconds to wait for the queues to drain")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    # Stopped (a timeout, ^C): leave through the context managers, which stop moto, the proxy and the stack.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    with EndpointProcesses() as endpoint:
        emulator = Emulator(endpoint.moto_url)
        with LocalStack(endpoint.url) as stack:
            assert stack.proc is not None
            load = Load(stack, args)
            endpoint.settle_and_take(quiet=2.0, timeout=120)
            # A poll's own calls, on the quiet stack before the run (after it, timers and cadence steps
            # still due would be counted with it).
            poll_cost = {route: sum(load.poll_calls(endpoint, route).values()) for route in POLLS}
            endpoint.take()
            cpu_before = {"harness": time.process_time(), "stack": cpu_seconds(stack.proc.pid),
                          **endpoint.cpu_seconds()}
            run: dict[str, Any] = {"load_start": os.getloadavg()[0]}
            run["took"] = load.run()
            print(f"load: the run is over ({run['took']:.0f} s); settling (at most {args.settle_bound:.0f} s)",
                  flush=True)
            run["settle"], run["drained"] = settle(emulator, args.settle_bound, lambda line: print(line, flush=True))
            calls = endpoint.settle_and_take(quiet=2.0, timeout=60)  # everything since the first arrival
            cpu_after = {"harness": time.process_time(), "stack": cpu_seconds(stack.proc.pid),
                         **endpoint.cpu_seconds()}
            run["load_end"] = os.getloadavg()[0]
            run["cpu"] = {name: cpu_after[name] - cpu_before[name] for name in cpu_before}
        # The stack has stopped: nothing consumes the queues any more, so what they hold can be read.
        queues = emulator.queues()
        bodies = {q.name: emulator.peek(q) for q in queues if q.depth}
        facts = findings(load.sent, emulator.items(), queues,
                         [b for q in queues if not q.dead_letter for b in bodies.get(q.name, [])],
                         [b for q in queues if q.dead_letter for b in bodies.get(q.name, [])])

    print_summary(args, facts, run, load.timings, calls, poll_cost)
    failed = failures(facts)
    if failed:
        print(f"load: FAILED: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
