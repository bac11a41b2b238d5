"""`make load`: the local stack under a dealer group's working day, compressed.

Starts moto server behind the counting proxy (bench/_endpoint.py) and `leadline local` against it,
then sets up `--stores` stores (always open, an SMS number each, a short offer timeout, response
targets, a new-lead cadence) with `--agents` agents spread over them, and runs for `--minutes`:

- `--leads` leads arrive at random moments, from the JSON API (half), ADF XML posted by a provider
  with the store's X-Api-Key (a quarter) and SMS from unknown numbers (a quarter), each a new customer;
- customers write again (SMS) on some of their leads, and a few send STOP and later get nothing;
- agent bots work like people: they look at their offers every 5-10 s (their notifications every
  other time), think 3-15 s, then
  accept (78%), decline (12%) or let the offer time out (10%); after accepting they type a first
  answer (5-25 s); they answer customers' replies they are alerted of.

Afterwards, once the stack is quiet, it reads the STORED data (the table as moto server holds it,
not through the API, so the reads are not counted) and prints:

- leads lost: a customer's request answered 2xx (or an SMS accepted) with no lead for its contact;
- double owners: leads with more than one accepted offer;
- sends to opted-out customers: sandbox sends to a number after its STOP was stored;
- timer lateness: how late each timed-out offer was decided after its expiry (p50 / p99);
- p50 / p99 per route, as the bots measured them;
- AWS calls per lead end to end (everything counted at the endpoint while the load ran, the agents'
  polling included, divided by the leads), and by operation.

    .venv/bin/python bench/load.py [--leads 2000 --minutes 10 --stores 10 --agents 50]

The full size holds both cores for 10+ minutes; debug at small scale (`--leads 60 --minutes 1
--stores 2 --agents 6`)."""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from _endpoint import CountingEndpoint, LocalStack
from endpoint_calls import ALWAYS_OPEN, twilio_signature

DOMAIN = "load-motors.com"
POLLS = {"GET /me/offers": "/me/offers", "GET /me/notifications": "/me/notifications?unread=true"}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def seconds_between(earlier: str, later: str) -> float:
    def parse(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    return (parse(later) - parse(earlier)).total_seconds()


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

    def poll_calls(self, endpoint: CountingEndpoint, route: str) -> Counter[str]:
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


def stored_items() -> list[dict[str, Any]]:
    """Every item of the table as moto server (in this process) holds it: read from its backend, not
    through the API (a paged Scan of a big table is quadratic under moto, and would be counted)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    items: list[dict[str, Any]] = []
    for table in backend.tables.values():
        for group in list(table.items.values()):
            for item in (list(group.values()) if table.range_key_attr else [group]):
                items.append(item.to_regular_json())
    return items


def check(load: Load, items: list[dict[str, Any]]) -> dict[str, Any]:
    leads = [i for i in items if i.get("type") == "lead"]
    leads_by_id = {lead["lead_id"]: lead for lead in leads}
    by_contact: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for lead in leads:
        if lead.get("phone"):
            by_contact[(lead["account_id"], lead["phone"])].append(lead)
    accepted = [s for s in load.sent if s.accepted]
    lost = [s for s in accepted if not by_contact.get((s.account_id, s.phone))]
    offers = [i for i in items if i.get("type") == "offer"]
    accepted_offers = Counter(o["lead_id"] for o in offers if o.get("state") == "accepted")
    double = [lead_id for lead_id, n in accepted_offers.items() if n > 1]
    late = [seconds_between(o["expires_at"], o["decided_at"]) for o in offers
            if o.get("state") == "timed_out" and o.get("decided_at")]
    # A customer's STOP: the stored inbound message; any send to that number after it is a violation.
    stops: dict[str, str] = {}
    for item in items:
        if item.get("type") == "message" and item.get("direction") == "inbound" \
                and str(item.get("body", "")).strip().upper() == "STOP":
            stopped = leads_by_id.get(str(item["PK"]).removeprefix("LEAD#"))
            if stopped is not None and stopped.get("phone"):
                stops[stopped["phone"]] = min(stops.get(stopped["phone"], item["at"]), item["at"])
    sends = [i for i in items if str(i.get("PK", "")).startswith("SANDBOX#")]
    to_opted_out = [s for s in sends if s.get("to") in stops and s["at"] > stops[s["to"]]]
    return {
        "sent": len(load.sent), "accepted": len(accepted), "leads_stored": len(leads), "lost": len(lost),
        "lost_examples": [s.__dict__ for s in lost[:5]],
        "routing_states": Counter(str(lead.get("routing_state")) for lead in leads),
        "double_owners": len(double), "offers": len(offers), "timed_out_offers": len(late), "lateness": late,
        "opted_out_customers": len(stops), "sends": len(sends), "sends_to_opted_out": len(to_opted_out),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--stores", type=int, default=10)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--offer-timeout", type=int, default=45, help="seconds (the stores' routing config)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    with CountingEndpoint() as endpoint, LocalStack(endpoint.url) as stack:
        load = Load(stack, args)
        endpoint.settle_and_take(quiet=2.0, timeout=120)
        # A poll's own calls, on the quiet stack before the run (after it, timers and cadence steps
        # still due would be counted with it).
        poll_cost = {route: sum(load.poll_calls(endpoint, route).values()) for route in POLLS}
        endpoint.take_units()
        took = load.run()
        calls = endpoint.settle_and_take(quiet=5.0, timeout=300)  # all since set-up: the queues drained too
        facts = check(load, stored_items())

    print(f"load: {args.leads} leads over {args.minutes:g} min, {args.stores} stores, {args.agents} agent bots "
          f"(ran {took:.0f} s, offer timeout {args.offer_timeout} s)")
    print(f"  requests sent {facts['sent']}, answered 2xx {facts['accepted']}, leads stored {facts['leads_stored']}")
    print(f"  routing states: {dict(facts['routing_states'])}")
    print(f"  leads lost: {facts['lost']} {facts['lost_examples'] or ''}")
    print(f"  double owners: {facts['double_owners']} (of {facts['offers']} offers)")
    print(f"  sends to opted-out customers: {facts['sends_to_opted_out']} "
          f"({facts['opted_out_customers']} opted out; {facts['sends']} sends in all)")
    late = facts["lateness"]
    print(f"  offer timers: {facts['timed_out_offers']} timed out, decided late by p50 {percentile(late, 50):.2f} s, "
          f"p99 {percentile(late, 99):.2f} s")
    print("  per route (client side): p50 / p99 ms, requests, statuses")
    statuses: dict[str, list[str]] = defaultdict(list)
    for key, n in sorted(load.timings.statuses.items()):
        route, _, status = key.rpartition(" ")
        statuses[route].append(f"{status}x{n}")
    for route, seconds in sorted(load.timings.seconds.items()):
        print(f"    {route}: {percentile(seconds, 50) * 1000:.0f} / {percentile(seconds, 99) * 1000:.0f} ms, "
              f"{len(seconds)} requests ({', '.join(statuses[route])})")
    total = sum(calls.values())
    per_lead = total / max(1, facts["accepted"])
    polled = sum(len(load.timings.seconds.get(route, [])) * cost for route, cost in poll_cost.items())
    print(f"  AWS calls counted at the endpoint while it ran: {total} ({per_lead:.1f} per lead, the agents' "
          f"polling of offers and notifications included)")
    each = ", ".join(f"{route}: {cost} calls each" for route, cost in poll_cost.items())
    print(f"  of which the agents' polling, about {polled} ({each}, measured on the quiet stack before the run; "
          f"a poll that finds live offers adds one BatchGetItem): "
          f"{(total - polled) / max(1, facts['accepted']):.1f} calls per lead without it")
    for op, n in calls.most_common():
        print(f"    {op}: {n} ({n / max(1, facts['accepted']):.2f} per lead)")
    print(f"BENCH load_leads_lost: {facts['lost']} leads")
    print(f"BENCH load_double_owners: {facts['double_owners']} leads")
    print(f"BENCH load_sends_to_opted_out: {facts['sends_to_opted_out']} sends")
    print(f"BENCH load_timer_lateness_p50: {percentile(late, 50):.2f} s")
    print(f"BENCH load_timer_lateness_p99: {percentile(late, 99):.2f} s")
    print(f"BENCH load_calls_per_lead: {per_lead:.1f} calls")
    print(f"BENCH load_calls_per_lead_without_polling: {(total - polled) / max(1, facts['accepted']):.1f} calls")


if __name__ == "__main__":
    main()
