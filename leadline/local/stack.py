"""`leadline local` / `make run`: the whole stack in one process.

moto's server (or the endpoint given with --aws-endpoint) with the table, queues and bucket
made from infra/resources.json; the Chalice app served by chalice.local; the local
event-source mappings; the emulator's journal and snapshot under $LEADLINE_HOME/data
(persistence.py); the demo group on an empty store."""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from leadline.local import environment
from leadline.local.banner import StackFacts
from leadline.local.home import (
    CHECKOUT,
    DATA_DIR,
    DEMO_FILE,
    StackInfo,
    ensure_secret,
    pid_alive,
    read_stack_info,
    remove_stack_info,
    write_json_atomically,
    write_stack_info,
)

# Not "leadline...": Powertools' root-handler filter drops every logger whose name contains its service name.
log = logging.getLogger("local_stack")

HOST = "127.0.0.1"
DEFAULT_VISIBILITY_SECONDS = 5
# How long a failing record is retried (every visibility timeout) before its DLQ. Deployed, five
# receives 180 s apart; locally retries come every few seconds, and for as long as work a crashed
# consumer left claimed needs to become free (the product takes over a claim after 60 s).
LOCAL_RETRY_SECONDS = 120
UPKEEP_AGENT = "leadline-local-harness"


class StackError(RuntimeError):
    """The stack cannot start; the message says why and what to do."""


@dataclass
class StackOptions:
    home: Path
    port: int = 8000
    aws_port: int = 5000
    aws_endpoint: str | None = None
    demo: bool = True
    # Short on purpose: a failed record comes back in seconds, not the deployed minutes.
    visibility_seconds: int = DEFAULT_VISIBILITY_SECONDS
    verbose: bool = False
    smtp_port: int = 2525


@dataclass
class LocalStack:
    options: StackOptions
    api_url: str = ""
    aws_endpoint: str = ""
    demo: dict[str, Any] = field(default_factory=dict)
    password: str = ""
    ready_seconds: float = 0.0
    _moto: Any = None
    _http: Any = None
    _http_thread: threading.Thread | None = None
    _engine: Any = None
    _persistence: Any = None
    _info: StackInfo | None = None
    _smtp: Any = None
    _stopped: bool = False
    # Where a start that takes a while says what it waits on, before the banner (foreground.py: the terminal).
    say: Callable[[str], None] = field(default=lambda line: None, repr=False)

    # -- start ------------------------------------------------------------------------------

    def start(self) -> None:
        began = time.monotonic()
        opts = self.options
        opts.home.mkdir(parents=True, exist_ok=True)
        self._refuse_second_stack()
        _require_free_port(opts.port, "--port / PORT")
        _require_free_port(opts.smtp_port, "--smtp-port / SMTP_PORT")
        secret = ensure_secret(opts.home)
        self.api_url = f"http://{HOST}:{opts.port}"

        if opts.aws_endpoint:
            self.aws_endpoint = opts.aws_endpoint.rstrip("/")  # that endpoint keeps the data
        else:
            _require_free_port(opts.aws_port, "--aws-port / AWS_PORT")
            self._start_emulator()

        os.environ.update(environment.lambda_like_env())
        environment.point_boto3_at(self.aws_endpoint)
        settings_env = environment.local_settings_env(self.api_url)
        environment.apply_settings_env(settings_env, secret)
        from leadline.local.console import enable_local_sign_in

        self.password = enable_local_sign_in(opts.home)

        from chalicelib.config import get_settings
        from leadline.provision import provision_local, queue_definitions

        settings = get_settings()
        try:
            provision_local(settings, visibility_override=opts.visibility_seconds,
                            max_receives_override=self.max_receives)
        except Exception as exc:
            raise StackError(f"cannot create the table, queues and bucket at {self.aws_endpoint}: {exc}") from exc
        self._load_stores()
        store_was_empty = self._table_is_empty(settings.table_name)

        app = _import_app()
        timeouts = {settings.queue_name(d["queue"]): int(d["consumer_timeout_seconds"] or 30)
                    for d in queue_definitions().values() if not d["dead_letter"]}
        self._prepare_mappings(app, settings, timeouts)
        if self._persistence is not None:
            # Saved messages go back once every queue exists and before anything polls them;
            # from here on every acknowledged change is journaled.
            log.info("%d queue messages put back", self._persistence.load_messages())
            self._persistence.open()
        self._serve_http(app)
        self._engine.run()
        self._serve_smtp()

        if opts.demo and store_was_empty:
            from leadline.demo import seeding_line

            self.say(seeding_line())
            self.demo = self._seed_demo(app)
        else:
            self.demo = _read_demo(opts.home)
        self._info = StackInfo(
            api_url=self.api_url, aws_endpoint=self.aws_endpoint, region=environment.LOCAL_REGION, pid=os.getpid(),
            started_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), settings_env=settings_env,
            mappings=[m.describe() for m in self._engine.mappings], demo=self.demo)
        self.ready_seconds = time.monotonic() - began

    def announce(self) -> None:
        """Write stack.json, through which every `leadline` command (and a script waiting for the
        stack) finds it: after the banner, so whoever sees the file can also read the banner."""
        if self._info is not None:
            write_stack_info(self.options.home, self._info)

    def _start_emulator(self) -> None:
        from leadline.local.emulator import LocalMotoServer
        from leadline.local.journal import JournalCorrupt
        from leadline.local.persistence import Persistence

        self._persistence = Persistence(self.options.home / DATA_DIR, environment.LOCAL_REGION)
        try:
            saved = self._persistence.recover()
        except (JournalCorrupt, ValueError) as exc:
            raise StackError(f"the saved data under {self.options.home / DATA_DIR} cannot be read: {exc}") from exc
        log.info("recovered %s from %s", saved.counts(), self.options.home / DATA_DIR)
        self._moto = LocalMotoServer(HOST, self.options.aws_port, persistence=self._persistence)
        self._moto.start()
        self.aws_endpoint = f"http://{HOST}:{self.options.aws_port}"

    @property
    def max_receives(self) -> int:
        return -(-LOCAL_RETRY_SECONDS // self.options.visibility_seconds)

    def _refuse_second_stack(self) -> None:
        info = read_stack_info(self.options.home)
        if info is not None and info.pid != os.getpid() and pid_alive(info.pid):
            raise StackError(f"a local stack (pid {info.pid}, {info.api_url}) already runs for "
                             f"LEADLINE_HOME={self.options.home}; stop it or use another LEADLINE_HOME")

    def _load_stores(self) -> None:
        if self._persistence is None:
            return
        loaded = self._persistence.load_stores(_upkeep_client("s3"))
        log.info("%d items and %d objects put back", loaded["items"], loaded["objects"])

    @staticmethod
    def _table_is_empty(table_name: str) -> bool:
        return not _upkeep_client("dynamodb").scan(TableName=table_name, Limit=1).get("Items")

    def _serve_http(self, app: Any) -> None:
        from chalice.config import Config
        from chalice.local import create_local_server

        from leadline.local.console import serve_console

        config = Config.create(chalice_stage="local", app_name="leadline", lambda_timeout=30,
                               lambda_memory_size=512, function_name="api_handler")
        self._http = create_local_server(app, config, HOST, self.options.port)
        serve_console(self._http, app, config, self.api_url, upload_origin=self.aws_endpoint)
        self._http_thread = threading.Thread(target=self._http.server.serve_forever, name="http", daemon=True)
        self._http_thread.start()

    def _serve_smtp(self) -> None:
        """Inbound mail on 127.0.0.1:smtp_port, through the same code as SES's receipt rule (smtp.py)."""
        from leadline.local.smtp import LocalSmtp

        self._smtp = LocalSmtp(self.options.smtp_port)
        self._smtp.start()

    def _prepare_mappings(self, app: Any, settings: Any, timeouts: dict[str, int]) -> None:
        import boto3

        from leadline.local.mappings import MappingEngine
        from leadline.local.streams import TableStream

        # The pollers get their own clients: a long poll must not hold up the app's calls.
        session = boto3.session.Session()
        # Lambda polls a stream for free: the stream poller's calls are the stack's own, not the product's.
        stream = TableStream(_upkeep_client("dynamodb"), _upkeep_client("dynamodbstreams"), settings.table_name)
        self._engine = MappingEngine(
            app, sqs_client=session.client("sqs"), events_client=session.client("events"),
            function_prefix=f"leadline-{settings.stage}-", resource_prefix=f"{settings.queue_prefix}local-",
            region=environment.LOCAL_REGION, visibility_seconds=self.options.visibility_seconds, timeouts=timeouts,
            max_receives=self.max_receives, table_stream=stream,
            stream_taken=self._persistence.stream_taken if self._persistence is not None else None)
        try:
            self._engine.prepare()
        except ValueError as exc:  # a schedule expression the mappings cannot run
            raise StackError(f"cannot map the app's event sources: {exc}") from exc

    def _seed_demo(self, app: Any) -> dict[str, Any]:
        from chalicelib.deps import get_deps
        from leadline.demo import HttpApi, seed_demo
        from leadline.local.history_table import in_process_dynamodb

        # While the demo is seeded, the app's DynamoDB calls in this process (the history's, and the
        # stream consumer's rollups it sets off) go to the emulator without HTTP, journaled (moto_direct.py).
        journal = self._persistence.journal if self._persistence is not None else None
        seeding = (in_process_dynamodb(get_deps(), environment.LOCAL_REGION, journal)
                   if self._moto is not None else contextlib.nullcontext())
        try:
            with seeding as table:
                seed = seed_demo(app, get_deps(), lambda token: HttpApi(self.api_url, token), table).as_dict()
        except Exception:
            log.exception("the demo group could not be seeded; the stack runs without it")
            return {}
        write_json_atomically(self.options.home / DEMO_FILE, seed)
        return seed

    # -- run and stop --------------------------------------------------------------------------

    def manager_token(self) -> str | None:
        manager_id = self.demo.get("manager_id")
        if not manager_id:
            return None
        from chalicelib.deps import get_deps
        from chalicelib.services.auth import mint_local_token

        user = get_deps().users.get(manager_id)
        if user is None or user.deleted:
            return None
        return mint_local_token(get_deps().settings.jwt_secret, manager_id)

    def stop(self) -> None:
        """Stop taking work, let the handlers finish, fold the journal into the snapshot, stop
        the emulator."""
        if self._stopped:
            return
        self._stopped = True
        if self._smtp is not None:
            self._smtp.stop()
        if self._http is not None:
            self._http.server.shutdown()
            self._http.server.server_close()
        if self._engine is not None:
            self._engine.stop()
        if self._persistence is not None:
            try:
                self._persistence.close()
                log.info("data saved under %s", self.options.home / DATA_DIR)
            except Exception:
                log.exception("folding the journal at stop failed; the journal is kept and replayed at the next start")
        if self._moto is not None:
            self._moto.stop()
        remove_stack_info(self.options.home, os.getpid())

    def facts(self, log_file: Path | None) -> StackFacts:
        from leadline.local.console import banner_lines as console_banner_lines

        mappings = self._engine.mappings if self._engine else []
        return StackFacts(
            ready_seconds=self.ready_seconds, api_url=self.api_url, aws_endpoint=self.aws_endpoint,
            smtp_url=self._smtp.url if self._smtp is not None else None,
            aws_in_process=self._moto is not None, home=self.options.home,
            mappings={k: sum(1 for m in mappings if m.kind == k) for k in ("sqs", "schedule", "eventbridge")},
            log_file=log_file, demo_enabled=self.options.demo, demo=self.demo, manager_token=self.manager_token(),
            saved=self._persistence.recovered if self._persistence is not None else None,
            console=console_banner_lines(self.api_url, self.demo, self.password))


def _upkeep_client(service: str) -> Any:
    """A client for the stack's own calls (not the product's): bench/_endpoint.py counts them apart
    by this User-Agent marker."""
    import boto3
    from botocore.config import Config

    return boto3.client(service, config=Config(user_agent_extra=UPKEEP_AGENT))


def _require_free_port(port: int, flag: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            raise StackError(f"port {port} on {HOST} is taken ({exc.strerror}); choose another with {flag}") from exc


def _import_app() -> Any:
    # The console script may run from any directory; app.py lives in the checkout.
    if str(CHECKOUT) not in sys.path:
        sys.path.insert(0, str(CHECKOUT))
    return importlib.import_module("app").app


def _read_demo(home: Path) -> dict[str, Any]:
    import json

    with contextlib.suppress(FileNotFoundError, ValueError):
        return dict(json.loads((home / DEMO_FILE).read_text(encoding="utf-8")))
    return {}
