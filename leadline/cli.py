"""`leadline`: run the local stack and talk to it.

Commands other than `local` and `package` find the running stack through $LEADLINE_HOME
(its stack.json and its 0600 secret file), point boto3 at the stack's AWS endpoint with
fake credentials, and call the services directly. `bootstrap --stack` and `sign-in` work on
a deployed stage instead (leadline/deployed.py). No secret is ever taken from the
command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from leadline.local.home import NoRunningStack, leadline_home, read_secret, running_stack


class CliError(Exception):
    """A failure the user can act on: printed without a traceback."""


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise CliError(f"{name}={raw!r} is not a port number")
    return int(raw)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from exc


def connect_to_stack() -> Any:
    """Point this process at the running local stack; returns fresh Deps for the services."""
    from leadline.local import environment

    home = leadline_home()
    info = running_stack(home)
    environment.point_boto3_at(info.aws_endpoint, info.region)
    environment.apply_settings_env(info.settings_env, read_secret(home))
    _logs_to_stderr()
    from chalicelib.deps import Deps

    return Deps()


def _logs_to_stderr() -> None:
    """The app logs to stdout (Lambda's convention); here stdout is the command's answer."""
    import logging

    from chalicelib.observability import SERVICE

    for handler in logging.getLogger(SERVICE).handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sys.stderr)


# -- commands ------------------------------------------------------------------------------


def cmd_local(args: argparse.Namespace) -> int:
    from leadline.local.foreground import run
    from leadline.local.stack import StackOptions

    demo = not args.no_demo and os.environ.get("DEMO", "1").strip() != "0"
    return run(StackOptions(home=leadline_home(), port=args.port, aws_port=args.aws_port,
                            aws_endpoint=args.aws_endpoint, demo=demo, verbose=args.verbose, smtp_port=args.smtp_port))


def cmd_bootstrap(args: argparse.Namespace) -> int:
    from chalicelib.services.auth import mint_local_token
    from chalicelib.services.users import bootstrap_group

    if not args.group.strip() or not args.name.strip():
        raise CliError("--group and --name must not be blank")
    if args.stack:
        from leadline.deployed import deps_for, find_stack

        deps = deps_for(find_stack(args.stack, args.region))
        _logs_to_stderr()
    else:
        deps = connect_to_stack()
    boot = bootstrap_group(deps, args.group, args.email, args.name)
    # A deployed stage's tokens come from Cognito, which has just mailed a temporary password.
    # The token names the person; somebody already in another group sends X-Leadline-Group for this one.
    token = None if args.stack else mint_local_token(deps.settings.jwt_secret, boot.user.identity)
    print(json.dumps({"group_id": boot.group.group_id, "user_id": boot.user.user_id, "token": token}))
    if args.stack:
        print(f"Cognito has emailed {boot.user.email} a temporary password; for a token run:\n"
              f"  leadline sign-in --stack {args.stack} --email {boot.user.email}", file=sys.stderr)
    return 0


def cmd_sign_in(args: argparse.Namespace) -> int:
    from chalicelib.domain.contacts import normalize_email
    from leadline.deployed import find_stack, sign_in

    try:
        email = normalize_email(args.email)
    except ValueError as exc:
        raise CliError(f"--email: {exc}") from exc
    print(sign_in(find_stack(args.stack, args.region), email))
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    deps = connect_to_stack()
    from chalicelib.domain.contacts import normalize_email
    from chalicelib.services.auth import mint_local_token
    from chalicelib.services.memberships import resolve

    identity = deps.users.identity_of(normalize_email(args.email))
    if identity is None or resolve(deps, identity, None) is None:
        raise CliError("no active user has that email in the local stack")
    print(mint_local_token(deps.settings.jwt_secret, identity))
    return 0


def cmd_report_nightly(args: argparse.Namespace) -> int:
    deps = connect_to_stack()
    from chalicelib.services.nightly import run_nightly

    # Run at night, "nightly" means the UTC day that has just ended.
    day = args.date or (datetime.now(UTC).date() - timedelta(days=1))
    for key in run_nightly(deps, day):
        print(key)
    return 0


def cmd_console_publish(args: argparse.Namespace) -> int:
    import boto3

    from leadline.deployed import find_stack
    from leadline.publish_console import publish_console

    stack = find_stack(args.stack, args.region)
    for key in publish_console(stack, boto3.client("s3", region_name=stack.region),
                               boto3.client("cloudfront", region_name=stack.region)):
        print(key)
    print(f"console: {stack.outputs.get('ConsoleUrl', '')}", file=sys.stderr)
    return 0


def _stage_deps(args: argparse.Namespace) -> Any:
    """Deps of the deployed stage named by --stack, else of the running local stack."""
    if not args.stack:
        return connect_to_stack()
    from leadline.deployed import deps_for, find_stack

    deps = deps_for(find_stack(args.stack, args.region))
    _logs_to_stderr()
    return deps


def cmd_report_rebuild(args: argparse.Namespace) -> int:
    deps = _stage_deps(args)
    from chalicelib.services.rollup_rebuild import rebuild

    failed = 0
    for account_id in args.account:
        done = rebuild(deps, account_id, args.from_)
        print(f"{account_id}: {done.leads} leads ({done.events} report events, {done.scores} score entries) "
              f"since {done.first_day}; {done.ledgers_changed} ledgers and {done.days_written} days rewritten, "
              f"{done.stale_entries_dropped} stale entries dropped")
        if done.failed_leads:
            failed += len(done.failed_leads)
            print(f"{account_id}: {len(done.failed_leads)} leads could not be saved (run it again): "
                  f"{', '.join(done.failed_leads[:10])}", file=sys.stderr)
    return 1 if failed else 0


def cmd_report_verify(args: argparse.Namespace) -> int:
    deps = _stage_deps(args)
    from chalicelib.services.report_check import verify

    differing = 0
    for account_id in args.account:
        found = verify(deps, account_id, args.from_, args.to)
        if found:
            differing += 1
            print(f"{account_id}: the rollups differ from the recomputation (run `leadline report rebuild`):")
            print("\n".join(f"  {d}" for d in found))
        else:
            print(f"{account_id}: the rollups equal the recomputation")
    return 1 if differing else 0


def cmd_package(args: argparse.Namespace) -> int:
    from leadline.package import package

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    package(args.stage, out_dir)
    for path in sorted(out_dir.iterdir()):
        print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="leadline", description="Leadline developer tool")
    commands = parser.add_subparsers(dest="command", required=True)

    local = commands.add_parser("local", help="run the whole stack locally in the foreground")
    local.add_argument("--port", type=int, default=None, help="HTTP API port (default $PORT or 8000)")
    local.add_argument("--aws-port", type=int, default=None, help="moto server port (default $AWS_PORT or 5000)")
    local.add_argument("--smtp-port", type=int, default=None,
                       help="inbound mail (SMTP) port on 127.0.0.1 (default $SMTP_PORT or 2525)")
    local.add_argument("--aws-endpoint", default=None,
                       help="use this running AWS endpoint (moto server, LocalStack) instead of starting one")
    local.add_argument("--no-demo", action="store_true", help="do not seed the demo group (also DEMO=0)")
    local.add_argument("--verbose", action="store_true",
                       help="print the structured JSON logs here instead of $LEADLINE_HOME/logs/stack.log")
    local.set_defaults(func=cmd_local)

    boot = commands.add_parser("bootstrap", help="create a group and its first group_admin; prints JSON")
    boot.add_argument("--group", required=True)
    boot.add_argument("--email", required=True)
    boot.add_argument("--name", required=True)
    boot.add_argument("--stack", default=None,
                      help="a deployed stage's CloudFormation stack (your AWS credentials) instead of the local stack")
    boot.add_argument("--region", default=None, help="the stack's region (default: your AWS configuration's)")
    boot.set_defaults(func=cmd_bootstrap)

    sign = commands.add_parser("sign-in", help="a deployed stage: sign in with Cognito and print a bearer token")
    sign.add_argument("--stack", required=True, help="the stage's CloudFormation stack")
    sign.add_argument("--email", required=True)
    sign.add_argument("--region", default=None, help="the stack's region (default: your AWS configuration's)")
    sign.set_defaults(func=cmd_sign_in)

    token = commands.add_parser("token", help="print a bearer token for a user of the local stack")
    token.add_argument("--email", required=True)
    token.set_defaults(func=cmd_token)

    report = commands.add_parser("report", help="run reports now")
    kinds = report.add_subparsers(dest="report", required=True)
    nightly = kinds.add_parser("nightly", help="run the nightly aggregation; prints the S3 keys written")
    nightly.add_argument("--date", type=_day, default=None, help="the day to aggregate (default: yesterday, UTC)")
    nightly.set_defaults(func=cmd_report_nightly)
    rebuild = kinds.add_parser("rebuild", help="rebuild stores' report rollups from their report events "
                                               "(idempotent; safe beside the live stream consumer)")
    rebuild.add_argument("--account", required=True, action="append", help="a store id (repeat for more)")
    rebuild.add_argument("--from", dest="from_", required=True, type=_day,
                         help="the first UTC day to rebuild (YYYY-MM-DD): leads that arrived since then, and "
                              "everything that happened since then to older ones")
    rebuild.add_argument("--stack", default=None, help="a deployed stage's CloudFormation stack (your AWS "
                                                       "credentials) instead of the local stack")
    rebuild.add_argument("--region", default=None, help="the stack's region (default: your AWS configuration's)")
    rebuild.set_defaults(func=cmd_report_rebuild)
    verify = kinds.add_parser("verify", help="compare stores' rollups with the recomputation from their report "
                                             "events (the dashboard and lead sources); exits 1 when they differ")
    verify.add_argument("--account", required=True, action="append", help="a store id (repeat for more)")
    verify.add_argument("--from", dest="from_", type=_day, default=None, help="first day (default: the last 30)")
    verify.add_argument("--to", type=_day, default=None, help="last day (YYYY-MM-DD)")
    verify.add_argument("--stack", default=None, help="a deployed stage's CloudFormation stack")
    verify.add_argument("--region", default=None, help="the stack's region (default: your AWS configuration's)")
    verify.set_defaults(func=cmd_report_verify)

    console = commands.add_parser("console", help="the web console of a deployed stage")
    console_commands = console.add_subparsers(dest="console", required=True)
    publish = console_commands.add_parser("publish", help="upload the built console (make console) to a stage")
    publish.add_argument("--stack", required=True, help="the stage's CloudFormation stack")
    publish.add_argument("--region", default=None, help="the stack's region (default: your AWS configuration's)")
    publish.set_defaults(func=cmd_console_publish)

    pkg = commands.add_parser("package", help="write the deployable template and code bundle")
    pkg.add_argument("--stage", default="prod")
    pkg.add_argument("--out", required=True)
    pkg.set_defaults(func=cmd_package)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from chalicelib.domain.errors import DomainError
    from leadline.deployed import DeployedStackError

    try:
        if args.command == "local":
            args.port = args.port if args.port is not None else _env_int("PORT", 8000)
            args.aws_port = args.aws_port if args.aws_port is not None else _env_int("AWS_PORT", 5000)
            args.smtp_port = args.smtp_port if args.smtp_port is not None else _env_int("SMTP_PORT", 2525)
        return int(args.func(args))
    except NoRunningStack as exc:
        print(f"leadline: {exc}", file=sys.stderr)
        return 2
    except (CliError, DeployedStackError) as exc:
        print(f"leadline: {exc}", file=sys.stderr)
        return 1
    except DomainError as exc:
        fields = "".join(f"\n  {d.get('field')}: {d.get('message')}" for d in exc.details)
        print(f"leadline: {exc.code}: {exc.message}{fields}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
