"""The banner `make run` prints once the stack is ready: what a person needs to start using it.

Everything shown comes from `StackFacts`, which the stack fills in when it is ready; the
banner's content (which URLs, which demo users) is decided here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any


@dataclass
class StackFacts:
    ready_seconds: float
    api_url: str
    aws_endpoint: str
    aws_in_process: bool
    home: Path
    mappings: dict[str, int]  # kind (sqs, schedule, eventbridge) -> how many
    log_file: Path | None  # None: the JSON logs go to the terminal (--verbose)
    demo_enabled: bool
    demo: dict[str, Any] = field(default_factory=dict)  # demo.json: ids and the demo users' emails
    manager_token: str | None = None
    saved: dict[str, int] | None = None  # what the stack found under data/ (None: the endpoint keeps the data)
    console: list[str] = field(default_factory=list)  # the console's URL, demo password and users (local/console.py)
    smtp_url: str | None = None  # inbound mail (leadline/local/smtp.py)


def banner_text(facts: StackFacts) -> str:
    aws = facts.aws_endpoint + (" (moto, in this process)" if facts.aws_in_process else "")
    lines = [
        f"Leadline local stack ready in {facts.ready_seconds:.1f} s",
        f"  API            {facts.api_url}",
        *facts.console,
        f"  AWS endpoint   {aws}",
        *([f"  inbound mail   {facts.smtp_url} (to a lead's reply address or a store's email_from)"]
          if facts.smtp_url else []),
        f"  LEADLINE_HOME  {facts.home}",
        f"  mappings       {facts.mappings.get('sqs', 0)} queues, {facts.mappings.get('schedule', 0)} schedules, "
        f"{facts.mappings.get('eventbridge', 0)} event rules",
    ]
    if facts.saved is not None:
        lines.append(f"  data           {facts.saved['items']} items, {facts.saved['messages']} queue messages, "
                     f"{facts.saved['objects']} objects kept from the last run (crash-safe journal)")
    if facts.manager_token:
        lines += [f"  demo manager   {facts.demo.get('manager_email')}", f"  token          {facts.manager_token}"]
    elif not facts.demo_enabled:
        lines.append("  demo           off (--no-demo / DEMO=0)")
    lines.append(f"  logs           {facts.log_file} (JSON; --verbose prints them here)" if facts.log_file
                 else "  logs           JSON, here (--verbose)")
    lines.append("  Ctrl-C stops the stack")
    return "\n".join(lines)


def print_banner(facts: StackFacts, out: IO[str]) -> None:
    print(banner_text(facts), file=out, flush=True)
