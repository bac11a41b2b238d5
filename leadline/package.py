"""`leadline package`: chalice's SAM template merged with everything chalice does not make.

Nothing about the functions is written by hand. The app is imported (in a child process,
with the stage's environment from .chalice/config.json) and every Lambda function it
defines — the API handler, each SQS consumer, each schedule — is read from the Chalice
object. From that and the infra files this module builds a merge template:

- infra/resources.json: the table, every queue + DLQ, the reports and media buckets (the one
  definition the local stack and the tests use too);
- infra/deploy.json: parameters, Cognito, the provider secret, SES (sending, and receiving:
  receipt rule → media bucket → SNS → the inbound queue), the alarm topic;
- derived here: per function its name, log group, environment (table, bucket, queues,
  auth, secret) and, for a consumer, the queue it reads by logical id, partial batch
  responses (chalice cannot turn them on) and a timeout the queue's visibility covers 6
  times; for the table's stream consumer (report rollups, leads' languages) the table's
  stream, filters to the items it reads, partial batches, bisecting, bounded retries and a failure queue;
  an alarm per DLQ and on the stream consumer's iterator age; API throttling; and one
  least-privilege policy for the role every function shares: named actions on the named
  table, its stream, indexes, queues, bucket, mail identity, secret and log groups.

`chalice package --merge-template` then writes sam.json and deployment.zip; the offline
language detector (requirements-language.txt, ~100 MB of models) is built into
language-layer.zip, a layer on the table's stream consumer alone (the only code that
detects languages), so every other function's bundle stays small. The result is checked
(`verify_template`) before this returns, so a consumer added tomorrow without a queue
definition fails here rather than in CloudFormation.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leadline.package_console import add_console, console_cors_env

ROOT = Path(__file__).resolve().parent.parent
INFRA = ROOT / "infra"
CHALICE_CONFIG = ROOT / ".chalice" / "config.json"

# Lambda polls SQS for partial batch failures only when the event source says so.
PARTIAL_BATCH = ["ReportBatchItemFailures"]
# AWS guidance: a queue's visibility timeout is at least six times its consumer's timeout.
VISIBILITY_FACTOR = 6
API_HANDLER = "api_handler"
DEFAULT_REGION = "us-east-1"

TABLE_ACTIONS = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                 "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem", "dynamodb:Query"]
INDEX_ACTIONS = ["dynamodb:Query"]
STREAM_ACTIONS = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                  "dynamodb:ListStreams"]
# The table's stream consumer (report rollups): records it cannot apply after this many retries go
# to the `rollups` failure queue (its alarm says: run `leadline report rebuild`).
STREAM_FAILURE_QUEUE = "rollups"
STREAM_RETRIES = 10
STREAM_TIMEOUT_SECONDS = 60
# The consumer's IteratorAge alarm (ms): well inside the reports' live tail (report_tail_seconds).
STREAM_AGE_ALARM_MS = 60_000
QUEUE_SEND_ACTIONS = ["sqs:SendMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes"]
QUEUE_CONSUME_ACTIONS = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                         "sqs:GetQueueAttributes"]
BUCKET_OBJECT_ACTIONS = ["s3:GetObject", "s3:PutObject"]
BUCKET_ACTIONS = ["s3:ListBucket"]
MAIL_ACTIONS = ["ses:SendEmail", "ses:SendRawEmail"]
SECRET_ACTIONS = ["secretsmanager:GetSecretValue"]
LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"]
# POST/PATCH/DELETE /users keep the Cognito pool in step with Leadline's user records.
USER_POOL_ACTIONS = ["cognito-idp:AdminCreateUser", "cognito-idp:AdminGetUser",
                     "cognito-idp:AdminUpdateUserAttributes", "cognito-idp:AdminDeleteUser"]
# The AWS services the code may create clients for, and so the services the policy covers.
LANGUAGE_REQUIREMENTS = ROOT / "requirements-language.txt"
LANGUAGE_LAYER = "LanguageLayer"
LANGUAGE_LAYER_ZIP = "language-layer.zip"
# services/language detects languages, and only the table's stream consumer runs it: the layer is on
# that function alone (tests/deploy/test_package.py checks that nothing else imports the detector).
WHEEL_PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
# API Gateway's own answers (the request never reached the app) in the contract's error shape.
# A path no route has, and a method a path does not take, are both MISSING_AUTHENTICATION_TOKEN
# to API Gateway: a 404 (the local stack answers a wrong method with the app's 405). The DEFAULT_*
# entries keep the gateway's status. `$context.error.messageString` is already a quoted JSON string.
GATEWAY_ERRORS: dict[str, tuple[str | None, str, str]] = {
    "MISSING_AUTHENTICATION_TOKEN": ("404", "not_found", '"no route has this path"'),
    "REQUEST_TOO_LARGE": ("413", "too_large", '"the request is too large"'),
    "THROTTLED": ("429", "throttled", '"too many requests; retry in a moment"'),
    "DEFAULT_4XX": (None, "gateway_rejected", "$context.error.messageString"),
    "DEFAULT_5XX": (None, "unavailable", "$context.error.messageString"),
}
# What chalice prints (and otherwise ignores) when a requirement has no wheel for the Lambda runtime.
MISSING_DEPENDENCIES = "Could not install dependencies"
COVERED_SERVICES = frozenset({"dynamodb", "sqs", "s3", "sesv2", "secretsmanager", "cognito-idp"})


class PackageError(RuntimeError):
    """The app and the infra files do not fit together (or chalice failed)."""


@dataclass(frozen=True)
class Consumer:
    name: str
    queue: str
    batch_size: int


@dataclass(frozen=True)
class StreamConsumer:
    name: str
    batch_size: int
    starting_position: str


@dataclass(frozen=True)
class Schedule:
    name: str
    expression: str


@dataclass
class AppShape:
    """Every Lambda function the Chalice app defines, as `chalice package` will name them."""

    functions: list[str] = field(default_factory=list)
    consumers: list[Consumer] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)  # the HTTP routes' paths (the console's CORS preflights)
    streams: list[StreamConsumer] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"functions": self.functions, "consumers": [c.__dict__ for c in self.consumers],
                "schedules": [s.__dict__ for s in self.schedules], "paths": self.paths,
                "streams": [s.__dict__ for s in self.streams]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AppShape:
        return cls(functions=list(data["functions"]), consumers=[Consumer(**c) for c in data["consumers"]],
                   schedules=[Schedule(**s) for s in data["schedules"]], paths=list(data.get("paths", [])),
                   streams=[StreamConsumer(**s) for s in data.get("streams", [])])


def shape_of(chalice_app: Any) -> AppShape:
    """Read the functions off a Chalice object. Event sources this packager cannot wire
    (S3, SNS, Kinesis, CloudWatch events) stop the build; a DynamoDB stream consumer reads the
    table's stream."""
    from chalice.app import Cron, DynamoDBEventConfig, Rate, ScheduledEventConfig, SQSEventConfig

    shape = AppShape(paths=sorted(chalice_app.routes))
    if chalice_app.routes:
        shape.functions.append(API_HANDLER)
    for source in chalice_app.event_sources:
        if isinstance(source, SQSEventConfig):
            if source.queue is None:
                raise PackageError(f"consumer {source.name} reads a queue by ARN; name it so it maps to infra")
            shape.consumers.append(Consumer(source.name, source.queue, source.batch_size))
        elif isinstance(source, DynamoDBEventConfig):
            shape.streams.append(StreamConsumer(source.name, source.batch_size, source.starting_position))
        elif isinstance(source, ScheduledEventConfig):
            expression = source.schedule_expression
            text = expression.to_string() if isinstance(expression, Rate | Cron) else str(expression)
            shape.schedules.append(Schedule(source.name, text))
        else:
            kind = type(source).__name__
            raise PackageError(f"{source.name}: event source {kind} is not wired by leadline/package.py")
        shape.functions.append(source.name)
    for function in chalice_app.pure_lambda_functions:
        shape.functions.append(function.name)
    if len(set(shape.functions)) != len(shape.functions):
        raise PackageError(f"two Lambda functions share a name: {sorted(shape.functions)}")
    return shape


def stage_environment(stage: str) -> dict[str, str]:
    config = json.loads(CHALICE_CONFIG.read_text())
    if stage not in config.get("stages", {}):
        raise PackageError(f"stage {stage!r} is not in .chalice/config.json (stages: {sorted(config['stages'])})")
    env = dict(config.get("environment_variables", {}))
    env.update(config["stages"][stage].get("environment_variables", {}))
    return env


def lambda_architecture(stage: str) -> str:
    config = json.loads(CHALICE_CONFIG.read_text())
    stage_config = config.get("stages", {}).get(stage, {})
    return str(stage_config.get("lambda_architecture", config.get("lambda_architecture", "x86_64")))


def lambda_runtime() -> str:
    """Every function's Runtime: a current Lambda runtime, fixed here rather than following the Python
    that runs the build (leadline/chalice_runtime.py makes chalice package for it)."""
    from leadline.chalice_runtime import LAMBDA_RUNTIME

    return LAMBDA_RUNTIME


def _child_env(stage: str) -> dict[str, str]:
    # The stage's settings only: nothing from the caller's local stack or tests leaks into the build.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEADLINE_", "AWS_ENDPOINT_URL"))}
    env.setdefault("AWS_DEFAULT_REGION", os.environ.get("AWS_REGION", DEFAULT_REGION))
    env.update(stage_environment(stage))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def describe_app(stage: str) -> AppShape:
    """The app's shape as the stage sees it: imported in a child process with the stage's
    environment, because consumers compute their queue names from settings at import."""
    code = "import json, app, leadline.package as p; print(json.dumps(p.shape_of(app.app).to_json()))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_child_env(stage),  # noqa: S603 (fixed code)
                          capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise PackageError(f"importing app.py for stage {stage} failed:\n{done.stderr[-4000:]}")
    return AppShape.from_json(json.loads(done.stdout.strip().splitlines()[-1]))


# -- the merge template ---------------------------------------------------------------------------------


def cfn_name(name: str) -> str:
    """The logical id chalice gives a function or event named `name`."""
    from chalice.utils import to_cfn_resource_name

    if name == API_HANDLER:
        return "APIHandler"
    return str(to_cfn_resource_name(name))


def _sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


@dataclass(frozen=True)
class QueueInfo:
    key: str
    logical_id: str
    dead_letter_id: str
    visibility: int
    consumer_timeout: int


def infra_queues(resources: dict[str, Any]) -> dict[str, QueueInfo]:
    """queue key (timers, outbox, ...) -> its logical ids and timings, from the Metadata."""
    mains: dict[str, tuple[str, dict[str, Any]]] = {}
    dead: dict[str, str] = {}
    for logical_id, res in resources.items():
        if res["Type"] != "AWS::SQS::Queue":
            continue
        meta = res.get("Metadata", {}).get("Leadline", {})
        if "queue" not in meta:
            raise PackageError(f"queue {logical_id} has no Metadata.Leadline.queue")
        if meta.get("dead_letter"):
            dead[meta["queue"]] = logical_id
        else:
            mains[meta["queue"]] = (logical_id, res)
    found = {}
    for key, (logical_id, res) in mains.items():
        if key not in dead:
            raise PackageError(f"queue {key} has no dead-letter queue in infra/resources.json")
        redrive = res["Properties"].get("RedrivePolicy", {})
        target = {"Fn::GetAtt": [dead[key], "Arn"]}
        if redrive.get("deadLetterTargetArn") != target or redrive.get("maxReceiveCount") != 5:
            raise PackageError(f"queue {key} must redrive to {dead[key]} after 5 receives")
        found[key] = QueueInfo(key, logical_id, dead[key], int(res["Properties"]["VisibilityTimeout"]),
                               int(res["Metadata"]["Leadline"]["consumer_timeout_seconds"]))
    return found


def _queue_for(consumer: Consumer, queues: dict[str, QueueInfo], stage_env: dict[str, str]) -> QueueInfo:
    prefix = stage_env.get("LEADLINE_QUEUE_PREFIX", "leadline-")
    for info in queues.values():
        if consumer.queue == f"{prefix}{info.key}":
            return info
    raise PackageError(f"consumer {consumer.name} reads {consumer.queue!r}, which is not a queue of "
                       f"infra/resources.json (expected {prefix}<one of {sorted(queues)}>)")


def function_environment() -> dict[str, Any]:
    """What every function needs to find its resources; the static rest is .chalice/config.json."""
    return {
        "LEADLINE_TABLE_NAME": {"Ref": "Table"},
        "LEADLINE_REPORTS_BUCKET": {"Ref": "ReportsBucket"},
        "LEADLINE_MEDIA_BUCKET": {"Ref": "MediaBucket"},
        "LEADLINE_QUEUE_PREFIX": _sub("leadline-${Stage}-"),
        "LEADLINE_STAGE": {"Ref": "Stage"},
        "LEADLINE_SECRETS_ID": {"Ref": "ProviderSecret"},
        "LEADLINE_MAIL_FROM": {"Ref": "MailFrom"},
        "LEADLINE_PUBLIC_BASE_URL": {"Ref": "PublicBaseUrl"},
        "LEADLINE_COGNITO_REGION": {"Ref": "AWS::Region"},
        "LEADLINE_COGNITO_USER_POOL_ID": {"Fn::If": ["CreateUserPool", {"Ref": "UserPool"},
                                                     {"Ref": "CognitoUserPoolId"}]},
        "LEADLINE_COGNITO_APP_CLIENT_ID": {"Fn::If": ["CreateUserPool", {"Ref": "UserPoolClient"},
                                                      {"Ref": "CognitoAppClientId"}]},
        **console_cors_env(),
    }


def _policy(resources: dict[str, Any], queues: dict[str, QueueInfo], shape: AppShape,
            consumed: set[str]) -> dict[str, Any]:
    indexes = [gsi["IndexName"] for gsi in resources["Table"]["Properties"].get("GlobalSecondaryIndexes", [])]
    send_to = [_sub(f"${{{q.logical_id}.Arn}}") for q in sorted(queues.values(), key=lambda q: q.key)]
    if shape.streams:
        send_to.append(_sub(f"${{{stream_failure_queue(resources)}.Arn}}"))
    statements: list[dict[str, Any]] = [
        {"Sid": "Table", "Effect": "Allow", "Action": TABLE_ACTIONS, "Resource": [_sub("${Table.Arn}")]},
        {"Sid": "TableIndexes", "Effect": "Allow", "Action": INDEX_ACTIONS,
         "Resource": [_sub(f"${{Table.Arn}}/index/{name}") for name in indexes]},
        {"Sid": "QueuesSend", "Effect": "Allow", "Action": QUEUE_SEND_ACTIONS, "Resource": send_to},
        {"Sid": "ReportsObjects", "Effect": "Allow", "Action": BUCKET_OBJECT_ACTIONS,
         "Resource": [_sub("${ReportsBucket.Arn}/*")]},
        {"Sid": "ReportsBucket", "Effect": "Allow", "Action": BUCKET_ACTIONS,
         "Resource": [_sub("${ReportsBucket.Arn}")]},
        # Uploads are presigned by the role (so it may put them), checked and copied into media/; what
        # customers send is put into media/; the raw mail SES stored is only read.
        {"Sid": "MediaObjects", "Effect": "Allow", "Action": BUCKET_OBJECT_ACTIONS,
         "Resource": [_sub("${MediaBucket.Arn}/media/*"), _sub("${MediaBucket.Arn}/uploads/*")]},
        {"Sid": "InboundMail", "Effect": "Allow", "Action": ["s3:GetObject"],
         "Resource": [_sub("${MediaBucket.Arn}/inbound-mail/*")]},
        # Without it S3 answers a missing upload with 403 instead of 404.
        {"Sid": "MediaBucket", "Effect": "Allow", "Action": BUCKET_ACTIONS, "Resource": [_sub("${MediaBucket.Arn}")]},
        # Stores send customers' email from their own verified domains (`email_from`), so any identity
        # of this account and region; SES itself refuses an unverified one.
        {"Sid": "Mail", "Effect": "Allow", "Action": MAIL_ACTIONS, "Resource": [
            _sub("arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*"),
            _sub("arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${MailConfigurationSet}"),
        ]},
        {"Sid": "ProviderSecret", "Effect": "Allow", "Action": SECRET_ACTIONS, "Resource": [{"Ref": "ProviderSecret"}]},
        {"Sid": "UserPool", "Effect": "Allow", "Action": USER_POOL_ACTIONS, "Resource": [{"Fn::Sub": [
            "arn:${AWS::Partition}:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/${PoolId}",
            {"PoolId": {"Fn::If": ["CreateUserPool", {"Ref": "UserPool"}, {"Ref": "CognitoUserPoolId"}]}},
        ]}]},
        {"Sid": "Logs", "Effect": "Allow", "Action": LOG_ACTIONS,
         "Resource": [_sub(f"${{{cfn_name(name)}LogGroup.Arn}}") for name in shape.functions]},
    ]
    if consumed:
        statements.insert(3, {"Sid": "QueuesConsume", "Effect": "Allow", "Action": QUEUE_CONSUME_ACTIONS,
                              "Resource": [_sub(f"${{{queues[k].logical_id}.Arn}}") for k in sorted(consumed)]})
    if shape.streams:
        statements.insert(2, {"Sid": "TableStream", "Effect": "Allow", "Action": STREAM_ACTIONS,
                              "Resource": [_sub("${Table.StreamArn}")]})
    return {"PolicyName": "leadline-least-privilege",
            "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}


def _alarm(name: str, description: str, namespace: str, metric: str, dimensions: list[dict[str, Any]],
           statistic: str = "Sum", period: int = 300, threshold: int = 0) -> dict[str, Any]:
    """Any datum above `threshold` in one period notifies the alarm topic (and its return to OK)."""
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": _sub(f"leadline-${{Stage}}-{name}"),
            "AlarmDescription": description,
            "Namespace": namespace,
            "MetricName": metric,
            "Dimensions": dimensions,
            "Statistic": statistic,
            "Period": period,
            "EvaluationPeriods": 1,
            "Threshold": threshold,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": "AlarmTopic"}],
            "OKActions": [{"Ref": "AlarmTopic"}],
        },
    }


def _dead_letter_alarm(info: QueueInfo) -> dict[str, Any]:
    return _alarm(f"{info.key}-dead-letters",
                  f"Messages of the {info.key} queue failed 5 times and wait in its DLQ (docs/deploy.md: redrive)",
                  "AWS/SQS", "ApproximateNumberOfMessagesVisible",
                  [{"Name": "QueueName", "Value": {"Fn::GetAtt": [info.dead_letter_id, "QueueName"]}}],
                  statistic="Maximum", period=60)


def stream_failure_queue(resources: dict[str, Any]) -> str:
    """The logical id of the queue the stream consumer's failed records go to."""
    for logical_id, res in resources.items():
        meta = res.get("Metadata", {}).get("Leadline", {})
        if res["Type"] == "AWS::SQS::Queue" and meta.get("queue") == STREAM_FAILURE_QUEUE and meta.get("dead_letter"):
            return logical_id
    raise PackageError(f"a stream consumer needs the {STREAM_FAILURE_QUEUE} failure queue in infra/resources.json")


# Lambda hands the consumer only these items of the table's stream, and bills for nothing else (its
# filters are ORed): report events and score entries (services/rollups.ROLLED_UP_TYPES), and a customer's
# message as it is stored with the marker for its lead's language (adapters/dynamodb/leads.LANGUAGE_WANTED;
# tests/deploy/test_package.py checks both names agree).
STREAM_ITEM_TYPES = ("report_event", "score")
LANGUAGE_MARKER = "language_wanted"
STREAM_FILTERS: tuple[dict[str, Any], ...] = (
    {"eventName": ["INSERT", "MODIFY"], "dynamodb": {"NewImage": {"type": {"S": list(STREAM_ITEM_TYPES)}}}},
    {"eventName": ["INSERT"], "dynamodb": {"NewImage": {LANGUAGE_MARKER: {"BOOL": [True]}}}},
)


def _stream_events(stream: StreamConsumer, failure_queue: str) -> dict[str, Any]:
    return {cfn_name(f"{stream.name}-dynamodb-event-source"): {"Properties": {
        "Stream": _sub("${Table.StreamArn}"),
        "FunctionResponseTypes": PARTIAL_BATCH,
        "BisectBatchOnFunctionError": True,
        "MaximumRetryAttempts": STREAM_RETRIES,
        "DestinationConfig": {"OnFailure": {"Type": "SQS", "Destination": _sub(f"${{{failure_queue}.Arn}}")}},
        "FilterCriteria": {"Filters": [{"Pattern": json.dumps(f, separators=(",", ":"))} for f in STREAM_FILTERS]},
    }}}


def _stream_alarms(stream: StreamConsumer, failure_queue: str) -> dict[str, Any]:
    logical = cfn_name(stream.name)
    return {
        f"{logical}IteratorAgeAlarm": _alarm(
            f"{stream.name}-behind", "The report rollups' stream consumer is over a minute behind: reports count "
            "the newest events from its live tail; its log group says why", "AWS/Lambda", "IteratorAge",
            [{"Name": "FunctionName", "Value": {"Ref": logical}}], statistic="Maximum", period=60,
            threshold=STREAM_AGE_ALARM_MS),
        f"{failure_queue}Alarm": _alarm(
            f"{STREAM_FAILURE_QUEUE}-dead-letters", "Stream records the report rollups could not apply "
            "(docs/reports.md: run leadline report rebuild for the store)", "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            [{"Name": "QueueName", "Value": {"Fn::GetAtt": [failure_queue, "QueueName"]}}], statistic="Maximum",
            period=60),
    }


def _schedule_alarm(name: str) -> dict[str, Any]:
    # A schedule has no queue and so no DLQ: a failed run shows only in the function's Errors.
    return _alarm(f"{name}-failures", f"The scheduled function {name} failed; its log group says why "
                  "(docs/deploy.md §9: a failing schedule)", "AWS/Lambda", "Errors",
                  [{"Name": "FunctionName", "Value": {"Ref": cfn_name(name)}}])


def _api_alarm(stage: str) -> dict[str, Any]:
    # The app answers its own failures (a 500 in the contract's shape), so the Lambda's Errors stay at
    # zero: API Gateway's 5XXError counts those, the handler's crashes and its timeouts alike.
    return _alarm("api-server-errors", "The API answered 5xx (the API handler's log group says why)",
                  "AWS/ApiGateway", "5XXError", [{"Name": "ApiName", "Value": api_name(stage)}])


def api_name(stage: str) -> str:
    """The REST API's name (the OpenAPI title chalice writes): one per stage, so two stages in one
    AWS account keep their metrics apart."""
    return f"leadline-{stage}"


def _language_layer(stage: str) -> dict[str, Any]:
    return {"Type": "AWS::Serverless::LayerVersion", "Properties": {
        "LayerName": _sub("leadline-${Stage}-language"),
        "Description": "Offline language detection (requirements-language.txt) for the table's stream consumer",
        "ContentUri": f"./{LANGUAGE_LAYER_ZIP}",
        "CompatibleRuntimes": [lambda_runtime()],
        "CompatibleArchitectures": [lambda_architecture(stage)],
        "RetentionPolicy": "Delete",
    }}


def build_merge_template(stage: str, shape: AppShape) -> dict[str, Any]:
    infra = json.loads((INFRA / "resources.json").read_text())
    deploy = json.loads((INFRA / "deploy.json").read_text())
    resources: dict[str, Any] = infra["Resources"]
    overlap = set(resources) & set(deploy["Resources"])
    if overlap:
        raise PackageError(f"infra/deploy.json redefines {sorted(overlap)} of infra/resources.json")
    stage_env = stage_environment(stage)
    queues = infra_queues(resources)

    template: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"Leadline ({stage}): {deploy['Description']}",
        "Parameters": {**infra.get("Parameters", {}), **deploy["Parameters"]},
        "Conditions": dict(deploy.get("Conditions", {})),
        "Resources": {**resources, **deploy["Resources"]},
        "Outputs": dict(deploy.get("Outputs", {})),
    }
    # The stage is fixed at package time: the code's queue names and settings were read for it.
    template["Parameters"]["Stage"] = {"Type": "String", "Default": stage, "AllowedValues": [stage],
                                       "Description": "The chalice stage this template was packaged for"}
    out = template["Resources"]

    consumer_of = {c.name: c for c in shape.consumers}
    stream_of = {s.name: s for s in shape.streams}
    consumed: set[str] = set()
    for name in shape.functions:
        if len(f"leadline-{stage}-{name}") > 64:
            raise PackageError(f"function name leadline-{stage}-{name} is longer than Lambda's 64 characters")
        logical = cfn_name(name)
        log_group = f"{logical}LogGroup"
        out[log_group] = {"Type": "AWS::Logs::LogGroup", "Properties": {
            "LogGroupName": _sub(f"/aws/lambda/leadline-${{Stage}}-{name}"),
            "RetentionInDays": {"Ref": "LogRetentionDays"}}}
        properties: dict[str, Any] = {
            "FunctionName": _sub(f"leadline-${{Stage}}-{name}"),
            "Environment": {"Variables": function_environment()},
        }
        consumer = consumer_of.get(name)
        if consumer is not None:
            info = _queue_for(consumer, queues, stage_env)
            if info.visibility < VISIBILITY_FACTOR * info.consumer_timeout:
                raise PackageError(f"queue {info.key}: visibility {info.visibility}s is under "
                                   f"{VISIBILITY_FACTOR} x the consumer timeout {info.consumer_timeout}s")
            consumed.add(info.key)
            properties["Timeout"] = info.consumer_timeout
            # Same intrinsic as chalice's own Fn::Sub: a deep merge of Fn::GetAtt into it would
            # leave an object with two intrinsic keys (FIELD-NOTES).
            properties["Events"] = {cfn_name(f"{name}-sqs-event-source"): {"Properties": {
                "Queue": _sub(f"${{{info.logical_id}.Arn}}"),
                "FunctionResponseTypes": PARTIAL_BATCH,
            }}}
        stream = stream_of.get(name)
        if stream is not None:
            failure_queue = stream_failure_queue(resources)
            properties["Timeout"] = STREAM_TIMEOUT_SECONDS
            properties["Events"] = _stream_events(stream, failure_queue)
            out[LANGUAGE_LAYER] = _language_layer(stage)
            properties["Layers"] = [{"Ref": LANGUAGE_LAYER}]
            out.update(_stream_alarms(stream, failure_queue))
        out[logical] = {"DependsOn": [log_group], "Properties": properties}

    for info in queues.values():
        out[f"{info.dead_letter_id}Alarm"] = _dead_letter_alarm(info)
    for schedule in shape.schedules:
        out[f"{cfn_name(schedule.name)}FailuresAlarm"] = _schedule_alarm(schedule.name)

    out["DefaultRole"] = {"Properties": {"Policies": [_policy(resources, queues, shape, consumed)]}}
    if API_HANDLER in shape.functions:
        out["ApiServerErrorsAlarm"] = _api_alarm(stage)
        out["RestAPI"] = {"Properties": {"DefinitionBody": {
            "info": {"title": api_name(stage)},
            "x-amazon-apigateway-gateway-responses": gateway_responses()}, "MethodSettings": [{
            "ResourcePath": "/*", "HttpMethod": "*", "MetricsEnabled": True,
            "ThrottlingRateLimit": {"Ref": "ApiThrottleRatePerSecond"},
            "ThrottlingBurstLimit": {"Ref": "ApiThrottleBurst"},
        }]}}
        add_console(template, shape.paths)
    else:
        for output in [k for k, v in template["Outputs"].items() if "RestAPI" in json.dumps(v)]:
            del template["Outputs"][output]
    return template


def gateway_responses() -> dict[str, Any]:
    """GATEWAY_ERRORS as the API's x-amazon-apigateway-gateway-responses: inside chalice's
    DefinitionBody, so a change to them is part of the API's next deployment."""
    responses: dict[str, Any] = {}
    for response_type, (status, code, message) in GATEWAY_ERRORS.items():
        body = f'{{"error": {{"code": "{code}", "message": {message}, "details": []}}}}'
        response: dict[str, Any] = {"responseTemplates": {"application/json": body}}
        if status is not None:
            response["statusCode"] = status
        if response_type == "THROTTLED":
            response["responseParameters"] = {"gatewayresponse.header.Retry-After": "'1'"}
        responses[response_type] = response
    return responses


# -- checking the result --------------------------------------------------------------------------------


def _walk(node: Any, path: str = "") -> Any:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")


def verify_template(template: dict[str, Any], shape: AppShape) -> list[str]:
    """What is wrong with a packaged template (empty when it is fine)."""
    problems: list[str] = []
    resources = template.get("Resources", {})
    for path, node in _walk(template):
        if isinstance(node, dict) and len([k for k in node if k.startswith("Fn::") or k == "Ref"]) > 1:
            problems.append(f"{path}: an object with two intrinsic functions (a bad merge)")
    for name in shape.functions:
        function = resources.get(cfn_name(name))
        if function is None or function.get("Type") != "AWS::Serverless::Function":
            problems.append(f"function {name} is missing from the template")
            continue
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        for key in ("LEADLINE_TABLE_NAME", "LEADLINE_QUEUE_PREFIX", "LEADLINE_AUTH_MODE", "LEADLINE_STAGE",
                    "LEADLINE_SECRETS_ID", "LEADLINE_REPORTS_BUCKET", "LEADLINE_MEDIA_BUCKET"):
            if key not in variables:
                problems.append(f"function {name} lacks {key}")
    for logical, res in resources.items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        for event_name, event in res["Properties"].get("Events", {}).items():
            props = event.get("Properties", {})
            if event.get("Type") == "DynamoDB":
                if props.get("Stream") != _sub("${Table.StreamArn}") \
                        or props.get("FunctionResponseTypes") != PARTIAL_BATCH:
                    problems.append(f"{logical}.{event_name}: not the table's stream with partial batches")
                continue
            if event.get("Type") != "SQS":
                continue
            if props.get("FunctionResponseTypes") != PARTIAL_BATCH:
                problems.append(f"{logical}.{event_name}: no ReportBatchItemFailures")
            queue_ref = props.get("Queue", {}).get("Fn::Sub", "") if isinstance(props.get("Queue"), dict) else ""
            if not (queue_ref.startswith("${") and queue_ref.endswith(".Arn}")):
                problems.append(f"{logical}.{event_name}: queue is not a resource of this template")
    layer = resources.get(LANGUAGE_LAYER, {}).get("Properties")
    for logical, function in resources.items():
        if {"Ref": LANGUAGE_LAYER} not in function.get("Properties", {}).get("Layers", []):
            continue
        fprops = function["Properties"]
        if layer is None:
            problems.append(f"{logical}: uses {LANGUAGE_LAYER}, which the template does not define")
        elif (layer["CompatibleRuntimes"] != [fprops.get("Runtime")]
              or layer["CompatibleArchitectures"] != fprops.get("Architectures", ["x86_64"])):
            problems.append(f"{LANGUAGE_LAYER} is built for {layer['CompatibleRuntimes']} "
                            f"{layer['CompatibleArchitectures']}, {logical} runs {fprops.get('Runtime')} "
                            f"{fprops.get('Architectures', ['x86_64'])}")
    for path, node in _walk(resources.get("DefaultRole", {})):
        if path.endswith(".Action"):
            actions = node if isinstance(node, list) else [node]
            problems += [f"DefaultRole{path}: wildcard action {a}" for a in actions if "*" in str(a)]
    return problems


# -- the command ----------------------------------------------------------------------------------------


def _chalice_command() -> list[str]:
    """chalice's CLI, run by this interpreter with the Lambda runtime fixed (leadline/chalice_runtime.py)."""
    import importlib.util

    if importlib.util.find_spec("chalice") is None:
        raise PackageError("chalice is not installed (make package installs requirements-dev.txt)")
    return [sys.executable, "-m", "leadline.chalice_runtime"]


def package(stage: str, out_dir: Path) -> None:
    """Write `sam.json` and `deployment.zip` for `stage` into `out_dir`."""
    out_dir = Path(out_dir).resolve()
    shape = describe_app(stage)
    template = build_merge_template(stage, shape)
    with tempfile.TemporaryDirectory(prefix="leadline-package-") as work:
        merge_path = Path(work) / "merge-template.json"
        merge_path.write_text(json.dumps(template, indent=2))
        # chalice refuses nothing in an existing directory, but a stale sam.json would mislead.
        for stale in ("sam.json", "deployment.zip", LANGUAGE_LAYER_ZIP):
            (out_dir / stale).unlink(missing_ok=True)
        done = subprocess.run(  # noqa: S603 (the venv's chalice, our arguments)
            [*_chalice_command(), "--project-dir", str(ROOT), "package", "--stage", stage,
             "--merge-template", str(merge_path), str(out_dir)],
            cwd=ROOT, env=_child_env(stage), capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise PackageError(f"chalice package failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    if MISSING_DEPENDENCIES in done.stdout + done.stderr:
        # chalice leaves out what it found no Lambda wheel for and exits 0: a bundle that cannot import.
        raise PackageError(f"chalice left dependencies out of the bundle:\n{done.stdout[-2000:]}")
    packaged = json.loads((out_dir / "sam.json").read_text())
    problems = verify_template(packaged, shape)
    if problems:
        raise PackageError("the packaged template is wrong:\n  " + "\n  ".join(problems))
    layer = packaged["Resources"].get(LANGUAGE_LAYER)
    if layer is not None:
        build_layer(LANGUAGE_REQUIREMENTS, out_dir / LANGUAGE_LAYER_ZIP,
                    layer["Properties"]["CompatibleArchitectures"][0], layer["Properties"]["CompatibleRuntimes"][0])


def build_layer(requirements: Path, zip_path: Path, architecture: str, runtime: str) -> None:
    """A Lambda layer of `requirements` as Lambda's Python finds it (`python/`), from the
    manylinux wheels of `architecture` and `runtime`: what chalice does for the bundle."""
    if architecture not in WHEEL_PLATFORMS:
        raise PackageError(f"no wheel platform for the Lambda architecture {architecture!r}")
    with tempfile.TemporaryDirectory(prefix="leadline-layer-") as work:
        done = subprocess.run(  # noqa: S603 (this interpreter's pip, our arguments)
            [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
             "-r", str(requirements), "--dest", work, "--only-binary=:all:", "--implementation", "cp",
             "--platform", WHEEL_PLATFORMS[architecture], "--python-version", runtime.removeprefix("python")],
            capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0:
            raise PackageError(f"downloading the layer's wheels failed:\n{done.stderr[-4000:]}")
        wheels = sorted(Path(work).glob("*.whl"))
        if not wheels:
            raise PackageError(f"no wheels for {requirements.name}")
        with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as layer:
            for wheel in wheels:
                with zipfile.ZipFile(wheel) as source:
                    for info in source.infolist():
                        if info.is_dir():
                            continue
                        entry = zipfile.ZipInfo(f"python/{info.filename}", date_time=(1980, 1, 1, 0, 0, 0))
                        entry.external_attr = info.external_attr or (0o644 << 16)
                        entry.compress_type = zipfile.ZIP_DEFLATED
                        layer.writestr(entry, source.read(info))
