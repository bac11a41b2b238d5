"""Who and what the demo's 90 days of history are made of: the stores' daily volume and its shape
over the week and the day, where leads come from, the customers' names and words, and how
each agent and customer tends to behave. Only data and draws from a seeded `random.Random`:
the same seed lives the same history (leadline/demo_history.py plays it through the product)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

# New leads a day per store kind, Monday first (dealers are busiest on Saturday, service early in the
# week). A real store has more; each lead costs the seed 0.1 to 0.2 s of CPU (bench/demo_seed.py).
DAILY_LEADS = {"sales": (0.5, 0.5, 0.5, 0.5, 0.7, 0.9, 0.4), "service": (0.5, 0.4, 0.3, 0.3, 0.3, 0.2, 0.0)}
# Relative weight of each local hour of the day a request arrives in (0-23).
HOUR_WEIGHTS = (1, 0, 0, 0, 0, 1, 2, 4, 6, 9, 11, 12, 11, 10, 9, 9, 9, 10, 11, 10, 8, 6, 4, 2)

SOURCES: dict[str, list[tuple[dict[str, Any], int]]] = {
    "sales": [
        ({"source": "Website", "source_group": "Direct", "channel": "web"}, 30),
        ({"source": "AutoTrader", "source_group": "Third party", "channel": "web"}, 20),
        ({"source": "Cars.com", "source_group": "Third party", "channel": "web"}, 15),
        ({"source": "Facebook", "source_group": "Social", "channel": "web", "campaign": "Spring Sales Event"}, 12),
        ({"source": "Google Ads", "source_group": "Paid search", "channel": "web", "campaign": "Year-end clearance"},
         10),
        ({"source": "Text us", "source_group": "Direct", "channel": "sms"}, 13),
    ],
    "service": [
        ({"source": "Website", "source_group": "Direct", "channel": "web"}, 45),
        ({"source": "Google Business", "source_group": "Search", "channel": "web"}, 30),
        ({"source": "Text us", "source_group": "Direct", "channel": "sms"}, 25),
    ],
}

Model = tuple[int, str, str, str | None]
MODELS: dict[str, list[Model]] = {
    "sales": [(2025, "Toyota", "RAV4", "XLE"), (2025, "Toyota", "Camry", "SE"), (2024, "Honda", "Civic", "Sport"),
              (2025, "Honda", "CR-V", "EX-L"), (2023, "Toyota", "Tacoma", "TRD Off-Road"),
              (2024, "Honda", "Accord", "Hybrid"), (2025, "Toyota", "Highlander", "Limited")],
    "service": [(2019, "Toyota", "Corolla", None), (2021, "Honda", "Pilot", None), (2018, "Ford", "F-150", None),
                (2020, "Nissan", "Altima", None)],
}

FIRST = ("James", "Maria", "Robert", "Linda", "Michael", "Sofia", "David", "Aisha", "Daniel", "Emily", "Carlos",
         "Grace", "Kevin", "Mei", "Thomas", "Fatima", "Andre", "Rachel", "Noah", "Isabel", "Tyler", "Nina",
         "Marcus", "Chloe", "Samuel", "Leah", "Victor", "Hana", "Eric", "Olga")
LAST = ("Johnson", "Garcia", "Nguyen", "Brown", "Martinez", "Lee", "Walker", "Patel", "Hernandez", "Young",
        "King", "Lopez", "Wright", "Scott", "Green", "Adams", "Baker", "Rivera", "Campbell", "Mitchell")

ASKS = {"sales": ("Is this one still available?", "What is the best out-the-door price?",
                  "Do you take trade-ins? I have a 2017 Civic.", "Can I test drive it this weekend?",
                  "What financing rates do you have right now?", "Is the price negotiable?", None),
        "service": ("Need an oil change this week.", "My check engine light is on.",
                    "How much is a brake inspection?", "Can I book a tire rotation?", None)}
FIRST_REPLIES = ("Hi {name}, thanks for reaching out! It is available. When would you like to come by?",
                 "Hi {name}, happy to help. Are you free for a quick visit this week?",
                 "Thanks {name}! I can put together numbers for you. Morning or afternoon better?")
CUSTOMER_REPLIES = ("Saturday morning works", "Can you do tomorrow after 5?", "Great, thanks!",
                    "What would my payment be?", "I can come by Thursday", "Sounds good")
FOLLOW_UPS = ("Perfect, you are booked. See you then!", "Great — I will have it ready for you.",
              "Payments depend on the term; I will bring options to your visit.")
DECLINE_REASONS = ("With a customer", "At lunch", "Not my make", "End of shift")


@dataclass(frozen=True)
class Temperament:
    """How an agent answers: shares of offers accepted and declined (the rest time out), and
    the usual minutes before the first message to the customer."""

    accepts: float
    declines: float
    response_minutes: float


TEMPERAMENTS = (Temperament(0.82, 0.08, 4), Temperament(0.66, 0.16, 11), Temperament(0.74, 0.06, 7),
                Temperament(0.58, 0.14, 22), Temperament(0.8, 0.1, 6))


@dataclass(frozen=True)
class Story:
    """What will happen to one lead, drawn when it arrives."""

    request: dict[str, Any]
    replies: bool  # the customer answers the first message
    books: bool  # an appointment is made after the reply
    shows: bool
    buys: bool
    opts_out: bool  # the customer texts STOP instead of answering
    repeat_days: float | None  # the customer sends the request again this many days later (a duplicate)


def weekly_leads(kind: str) -> float:
    """New leads a week a store of this kind expects."""
    return sum(DAILY_LEADS[kind])


def day_count(kind: str, weekday: int, rng: random.Random) -> int:
    expected = DAILY_LEADS[kind][weekday]
    return int(expected) + (rng.random() < expected - int(expected))


def arrival_seconds(rng: random.Random) -> int:
    """Seconds after local midnight."""
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    return hour * 3600 + rng.randrange(3600)


def story(kind: str, store_index: int, serial: int, rng: random.Random) -> Story:
    fields, = rng.choices([s for s, _ in SOURCES[kind]], weights=[w for _, w in SOURCES[kind]])
    first, last = rng.choice(FIRST), rng.choice(LAST)
    request: dict[str, Any] = {**fields, "first_name": first, "last_name": last,
                               # Each store's area code, 555-2000 up (the live demo leads have 555-01xx).
                               "phone": f"+1{(617, 303, 602)[store_index % 3]}555{2000 + serial:04d}"}
    if rng.random() < 0.75:
        request["email"] = f"{first.lower()}.{last.lower()}{serial}@example.com"
    if rng.random() < 0.8:
        year, make, model, trim = rng.choice(MODELS[kind])
        request["vehicle"] = {"year": year, "make": make, "model": model, **({"trim": trim} if trim else {})}
    ask = rng.choice(ASKS[kind])
    if ask:
        request["message"] = ask
    opts_out = rng.random() < 0.04
    replies = not opts_out and rng.random() < 0.62
    books = replies and rng.random() < (0.5 if kind == "sales" else 0.75)
    shows = books and rng.random() < 0.7
    return Story(request=request, replies=replies, books=books, shows=shows,
                 buys=shows and kind == "sales" and rng.random() < 0.45, opts_out=opts_out,
                 repeat_days=rng.uniform(0.5, 5) if rng.random() < 0.06 else None)
