"""Where the local stack's logs go: structured JSON to a file, short readable lines to a person.

`make run` is read by a person: the terminal gets the banner, then one short line per event
("14:02:11  POST /accounts/{account_id}/leads  201  34 ms", "lead created  lead_id=..."), and
problems with a pointer to the details. The structured JSON lines — the app's Powertools
logs, exactly as Lambda would print them, and the stack's own — go to
`$LEADLINE_HOME/logs/stack.log`. With `leadline local --verbose` the JSON goes to the terminal
instead and there is no file."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

LOG_DIR = "logs"
LOG_FILE = "stack.log"
# At start a log past this size becomes stack.log.1 (one generation kept): a stack that runs for
# weeks does not fill the disk, and the previous run's lines survive one restart.
ROTATE_BYTES = 20 * 1024 * 1024
APP_LOGGER = "leadline"  # Powertools' logger: named after the service
QUIET_LIBRARIES = ("werkzeug", "botocore", "boto3", "urllib3", "s3transfer")
_RECORD_FIELDS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
SHORT_FIELD_CHARS = 48


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS and not k.startswith("_")}


class JsonLines(logging.Formatter):
    """The stack's own records in the shape of the app's Powertools lines."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "level": record.levelname, "location": f"{record.funcName}:{record.lineno}",
            "message": record.getMessage(),
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "service": "local_stack", "logger": record.name, **extra_fields(record),
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
            data["exception_name"] = record.exc_info[0].__name__ if record.exc_info[0] else ""
        return json.dumps(data, separators=(",", ":"), default=str)


class ShortLines(logging.Formatter):
    """One line a person can read: time, what happened, the ids involved."""

    def __init__(self, details: Path) -> None:
        super().__init__()
        self.details = details

    def format(self, record: logging.LogRecord) -> str:
        at = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        fields = extra_fields(record)
        if record.msg == "http request" and "status" in fields:
            duration = fields.get("duration_ms")
            text = (f"{fields.get('method')} {fields.get('route') or '(no route)'}  {fields['status']}"
                    + (f"  {float(duration):.0f} ms" if isinstance(duration, int | float) else ""))
        else:
            shown = [f"{k}={v}" for k, v in fields.items()
                     if isinstance(v, str | int | float | bool) and len(str(v)) <= SHORT_FIELD_CHARS]
            text = "  ".join([record.getMessage(), *shown])
        if record.levelno >= logging.WARNING:
            text = f"{record.levelname}  {text}"
        if record.exc_info or record.levelno >= logging.ERROR:
            text += f"  (details in {self.details})"
        return f"{at}  {text}"


class LogRouting:
    """What `route_logs` set up. Until `ready`, the terminal shows only warnings and errors, so
    the banner is the first thing a person reads; `close` flushes and closes the file."""

    def __init__(self, file_path: Path | None, stream: IO[str] | None, short: logging.Handler | None) -> None:
        self.file_path = file_path
        self._stream = stream
        self._short = short

    def ready(self) -> None:
        if self._short is not None:
            self._short.setLevel(logging.INFO)

    def close(self) -> None:
        if self._stream is not None:
            self._stream.flush()
            self._stream.close()


def route_logs(home: Path, verbose: bool, terminal: IO[str] | None = None) -> LogRouting:
    """Send every log record where it belongs (see the module docstring). Creates the app's
    Powertools logger if nothing imported it yet, so its handler can be pointed at the file."""
    from chalicelib.observability import logger as app_logger  # noqa: F401  (creates the "leadline" logger)

    terminal = terminal or sys.stdout
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(logging.INFO)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    app = logging.getLogger(APP_LOGGER)
    powertools_handler = app.handlers[0]  # Powertools formats through its first handler: it stays first
    app.propagate = False

    if verbose:
        to_terminal = logging.StreamHandler(terminal)
        to_terminal.setFormatter(JsonLines())
        root.addHandler(to_terminal)
        if isinstance(powertools_handler, logging.StreamHandler):
            powertools_handler.setStream(terminal)
        return LogRouting(None, None, None)

    path = home / LOG_DIR / LOG_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.stat().st_size > ROTATE_BYTES:
        path.replace(path.with_name(LOG_FILE + ".1"))
    stream = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 (closed by LogRouting.close)
    to_file = logging.StreamHandler(stream)
    to_file.setFormatter(JsonLines())
    if isinstance(powertools_handler, logging.StreamHandler):
        powertools_handler.setStream(stream)
        to_file.lock = powertools_handler.lock  # one lock per file: lines never interleave
    root.addHandler(to_file)
    short = logging.StreamHandler(terminal)
    short.setFormatter(ShortLines(path))
    short.setLevel(logging.WARNING)
    root.addHandler(short)
    app.addHandler(short)
    return LogRouting(path, stream, short)
