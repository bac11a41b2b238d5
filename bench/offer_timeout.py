"""Offer-timeout lateness on the real local stack (real clock, real HTTP, the timers queue).

Starts `python -m leadline.cli local --no-demo` in a subprocess with a temporary LEADLINE_HOME
on free ports (the same StackProcess as tests/e2e), bootstraps a group through the CLI, makes a
store open around the clock with two agents and offer_timeout_seconds 2, then for each of a
few leads made over HTTP: finds its first offer, and polls (every 50 ms) the first agent's
GET /me/offers until that offer is gone and the other agent's until the lead is offered to them
(the timeout fired and routing moved on). Lateness = that moment minus the offer's expires_at.
The stack is always stopped (SIGTERM, then kill).

    .venv/bin/python bench/offer_timeout.py [--leads 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

POLL_SECONDS = 0.05
GIVE_UP_SECONDS = 15.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=5)
    args = parser.parse_args()

    from chalicelib.clock import parse_time
    from tests.e2e.conftest import StackProcess, free_port, routed_store

    with tempfile.TemporaryDirectory(prefix="leadline-bench-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        stack = StackProcess(home=home, port=free_port(), aws_port=free_port())
        try:
            stack.start()
            store = routed_store(stack, "bench-motors.com", 2)
            http, account_id, tokens = store.http, store.account_id, store.agents

            def offers_of(user_id: str) -> list[dict[str, Any]]:
                reply = http("GET", "/me/offers", token=tokens[user_id])
                if reply.status_code != 200:
                    raise AssertionError(reply.text)
                return list(reply.json()["items"])

            lateness_ms: list[float] = []
            hidden_ms: list[float] = []
            for n in range(args.leads):
                lead = http("POST", f"/accounts/{account_id}/leads", {
                    "first_name": "Lee", "last_name": f"Buyer{n}", "email": f"lee{n}@buyer-mail.com",
                    "source": "Web", "channel": "web"})
                if lead.status_code != 201:
                    raise AssertionError(lead.text)
                lead_id = lead.json()["lead_id"]
                first = next(((uid, o) for uid in tokens for o in offers_of(uid) if o["lead_id"] == lead_id), None)
                if first is None:
                    raise AssertionError(f"lead {lead_id} got no offer")
                agent, offer = first
                expires = parse_time(offer["expires_at"]).timestamp()
                # GET /me/offers hides an offer past its expires_at at read time, so its leaving the
                # list is not the timeout firing; the timeout has fired when the lead's routing moves
                # on: the other agent is offered the lead (a new routing version).
                gone_at = moved_at = None
                while time.time() < expires + GIVE_UP_SECONDS and moved_at is None:
                    polled = time.time()
                    if gone_at is None and all(o["offer_id"] != offer["offer_id"] for o in offers_of(agent)):
                        gone_at = polled
                    if any(o["lead_id"] == lead_id for uid in tokens if uid != agent for o in offers_of(uid)):
                        moved_at = polled
                        break
                    time.sleep(POLL_SECONDS)
                if gone_at is None or moved_at is None:
                    raise AssertionError(f"routing of {lead_id} had not moved on {GIVE_UP_SECONDS} s after expiry")
                hidden_ms.append((gone_at - expires) * 1000)
                lateness_ms.append((moved_at - expires) * 1000)
                print(f"  lead {n + 1}: offer hidden {hidden_ms[-1]:.0f} ms, next offer made "
                      f"{lateness_ms[-1]:.0f} ms after expires_at")
        finally:
            stop_stack(stack)

    p50 = statistics.median(lateness_ms)
    print(f"offer-timeout lateness (expires_at to the next agent's offer) over {len(lateness_ms)} offers "
          f"(timeout 2 s, polled every {POLL_SECONDS * 1000:.0f} ms): p50 {p50:.0f} ms, max {max(lateness_ms):.0f} ms")
    print(f"the offer left GET /me/offers: p50 {statistics.median(hidden_ms):.0f} ms, "
          f"max {max(hidden_ms):.0f} ms after expires_at (filtered at read time)")
    print(f"BENCH offer_timeout_lateness_p50_ms: {p50:.0f} ms")
    print(f"BENCH offer_timeout_lateness_max_ms: {max(lateness_ms):.0f} ms")


def stop_stack(stack: Any) -> None:
    """SIGTERM, then kill if it does not stop (StackProcess.stop raises after killing it)."""
    try:
        stack.stop()
    except AssertionError as exc:
        print(f"the stack needed a kill: {str(exc)[:200]}", file=sys.stderr)
    finally:
        if stack.proc is not None and stack.proc.poll() is None:
            stack.proc.kill()
            stack.proc.wait()


if __name__ == "__main__":
    main()
