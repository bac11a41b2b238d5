"""`leadline package`: the real chalice package of the real app for prod, checked by cfn-lint and by the
rules of issue 7 (partial batches, visibility, alarms, least privilege, a lean bundle)."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from leadline.chalice_runtime import LAMBDA_RUNTIME
from leadline.package import (
    COVERED_SERVICES,
    LANGUAGE_LAYER,
    LANGUAGE_LAYER_ZIP,
    USER_POOL_ACTIONS,
    VISIBILITY_FACTOR,
    AppShape,
    Consumer,
    PackageError,
    Schedule,
    build_merge_template,
    cfn_name,
    infra_queues,
    package,
    verify_template,
)

ROOT = Path(__file__).resolve().parents[2]
LAMBDA_BUNDLE_LIMIT = 250 * 1024 * 1024  # unzipped, Lambda's hard limit
LAMBDA_DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024  # zipped, uploaded with the API rather than through S3


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    package("prod", out)
    return out


@pytest.fixture(scope="module")
def template(packaged: Path) -> dict[str, Any]:
    return dict(json.loads((packaged / "sam.json").read_text()))


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}


def test_cfn_lint_is_clean(packaged: Path) -> None:
    lint = Path(sys.executable).with_name("cfn-lint")
    done = subprocess.run([str(lint), str(packaged / "sam.json")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_app_function_is_packaged_with_its_environment(template: dict[str, Any]) -> None:
    from app import app

    expected = {cfn_name(s.name) for s in app.event_sources} | {"APIHandler"}
    functions = _functions(template)
    assert expected <= set(functions)
    for logical, function in functions.items():
        env = function["Properties"]["Environment"]["Variables"]
        assert env["LEADLINE_AUTH_MODE"] == "cognito", logical
        assert env["LEADLINE_TABLE_NAME"] == {"Ref": "Table"}
        assert env["LEADLINE_SECRETS_ID"] == {"Ref": "ProviderSecret"}
        assert env["LEADLINE_QUEUE_PREFIX"] == {"Fn::Sub": "leadline-${Stage}-"}
        assert function["Properties"]["Architectures"] == ["arm64"]
        assert function["DependsOn"] == [f"{logical}LogGroup"]


def test_every_sqs_event_source_reports_partial_batches_and_fits_its_queue(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    for logical, function in _functions(template).items():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] != "SQS":
                continue
            props = event["Properties"]
            assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"], logical
            queue_id = re.fullmatch(r"\$\{(\w+)\.Arn\}", props["Queue"]["Fn::Sub"]).group(1)
            queue = resources[queue_id]["Properties"]
            assert queue["VisibilityTimeout"] >= VISIBILITY_FACTOR * function["Properties"]["Timeout"], logical
            assert queue["RedrivePolicy"]["maxReceiveCount"] == 5


def test_table_bucket_queues_and_alarms(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    table = resources["Table"]["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["SSESpecification"]["SSEEnabled"] is True
    assert table["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert [g["IndexName"] for g in table["GlobalSecondaryIndexes"]] == [f"GSI{i}" for i in range(1, 8)]
    bucket = resources["ReportsBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"] and bucket["LifecycleConfiguration"]["Rules"]
    queues = infra_queues(resources)
    assert set(queues) == {"timers", "outbox", "inbound", "reports", "events"}
    for info in queues.values():
        alarm = resources[f"{info.dead_letter_id}Alarm"]["Properties"]
        assert alarm["Dimensions"][0]["Value"] == {"Fn::GetAtt": [info.dead_letter_id, "QueueName"]}
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    # A schedule has no DLQ: its failures alarm through the function's Errors; the API's 5xx through API Gateway.
    schedules = [k for k, v in _functions(template).items()
                 if any(e["Type"] == "Schedule" for e in v["Properties"].get("Events", {}).values())]
    assert sorted(schedules) == ["ConversationsDueSweep", "NightlyReportsFanOut", "RoutingDueSweep"]
    for function in schedules:
        alarm = resources[f"{function}FailuresAlarm"]["Properties"]
        assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Lambda", "Errors")
        assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function}}]
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    api_alarm = resources["ApiServerErrorsAlarm"]["Properties"]
    assert (api_alarm["Namespace"], api_alarm["MetricName"]) == ("AWS/ApiGateway", "5XXError")
    api_name = resources["RestAPI"]["Properties"]["DefinitionBody"]["info"]["title"]
    assert api_alarm["Dimensions"] == [{"Name": "ApiName", "Value": api_name}] and api_name == "leadline-prod"
    throttle = resources["RestAPI"]["Properties"]["MethodSettings"][0]
    assert throttle["ThrottlingRateLimit"] == {"Ref": "ApiThrottleRatePerSecond"}
    assert resources["MailIdentity"]["Type"] == "AWS::SES::EmailIdentity"


def test_media_bucket_and_inbound_mail(template: dict[str, Any]) -> None:
    """Pictures and raw mail: private, encrypted, forgotten on schedule; SES's receipt rule stores mail
    under inbound-mail/ and notifies the inbound queue through SNS (raw delivery), nothing else may."""
    resources = template["Resources"]
    bucket = resources["MediaBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    expiry = {r["Prefix"]: r.get("ExpirationInDays") for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert expiry["uploads/"] == 1 and expiry["inbound-mail/"] and expiry["media/"]
    policy = {s["Sid"]: s for s in resources["MediaBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]}
    assert policy["HttpsOnly"]["Effect"] == "Deny"
    assert policy["SesStoresReceivedMail"]["Resource"] == {"Fn::Sub": "${MediaBucket.Arn}/inbound-mail/*"}
    rule = resources["MailReceiptRule"]["Properties"]["Rule"]
    [action] = rule["Actions"]
    assert action["S3Action"]["ObjectKeyPrefix"] == "inbound-mail/" and rule["ScanEnabled"] is True
    assert action["S3Action"]["TopicArn"] == {"Ref": "InboundMailTopic"}
    subscription = resources["InboundMailSubscription"]["Properties"]
    assert subscription["Endpoint"] == {"Fn::GetAtt": ["InboundQueue", "Arn"]} and subscription["RawMessageDelivery"]
    [send] = resources["InboundQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert send["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": "InboundMailTopic"}}}
    # The functions read raw mail but never write or delete it; they write only media/ and uploads/.
    [role] = [v for v in resources.values() if v["Type"] == "AWS::IAM::Role"]
    by_sid = {s["Sid"]: s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]}
    assert by_sid["InboundMail"]["Action"] == ["s3:GetObject"]
    assert {r["Fn::Sub"] for r in by_sid["MediaObjects"]["Resource"]} == {"${MediaBucket.Arn}/media/*",
                                                                         "${MediaBucket.Arn}/uploads/*"}


def test_the_gateways_own_answers_are_in_the_contract_shape(template: dict[str, Any]) -> None:
    api = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    responses = api["x-amazon-apigateway-gateway-responses"]
    expected = {"MISSING_AUTHENTICATION_TOKEN", "THROTTLED", "REQUEST_TOO_LARGE", "DEFAULT_4XX", "DEFAULT_5XX"}
    assert expected <= set(responses)
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "404"
    assert responses["THROTTLED"]["statusCode"] == "429"
    assert responses["REQUEST_TOO_LARGE"]["statusCode"] == "413"
    # The DEFAULT_* answers keep the gateway's status; the routes themselves are still chalice's.
    assert "statusCode" not in responses["DEFAULT_4XX"] and "/accounts" in api["paths"]
    for response_type, response in responses.items():
        # API Gateway puts the message in as a JSON string, quotes included.
        body = response["responseTemplates"]["application/json"].replace(
            "$context.error.messageString", json.dumps('Invalid request body "x"'))
        error = json.loads(body)["error"]
        assert set(error) == {"code", "message", "details"} and error["code"].islower(), response_type


def test_iam_is_least_privilege(template: dict[str, Any]) -> None:
    roles = {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::IAM::Role"}
    assert set(roles) == {"DefaultRole"}
    statements = [s for p in roles["DefaultRole"]["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in a for a in actions), statement
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert "*" not in resources and all(isinstance(r, dict) for r in resources), statement
    by_sid = {s["Sid"]: s for s in statements}
    assert {r["Fn::Sub"] for r in by_sid["TableIndexes"]["Resource"]} == {
        f"${{Table.Arn}}/index/GSI{i}" for i in range(1, 8)}
    assert "dynamodb:Scan" not in by_sid["Table"]["Action"]
    assert by_sid["ProviderSecret"]["Resource"] == [{"Ref": "ProviderSecret"}]
    pool_arn = by_sid["UserPool"]["Resource"][0]["Fn::Sub"]
    assert pool_arn[0].endswith(":userpool/${PoolId}") and pool_arn[1]["PoolId"]["Fn::If"][0] == "CreateUserPool"


def test_every_aws_client_the_code_makes_is_covered_by_the_policy() -> None:
    used = set()
    for path in (ROOT / "chalicelib").rglob("*.py"):
        used |= set(re.findall(r"client\(\"([a-z0-9-]+)\"\)", path.read_text()))
    assert used <= COVERED_SERVICES, f"add IAM statements in leadline/package.py for {used - COVERED_SERVICES}"


def test_every_user_pool_call_is_allowed() -> None:
    called = set(re.findall(r"\._idp\.([a-z_]+)\(", (ROOT / "chalicelib" / "adapters" / "directory.py").read_text()))
    assert called, "the pattern no longer finds the Cognito calls"
    allowed = {action.removeprefix("cognito-idp:") for action in USER_POOL_ACTIONS}
    assert {"".join(part.title() for part in name.split("_")) for name in called} == allowed


def test_bundle_holds_the_runtime_requirements_only(packaged: Path) -> None:
    with zipfile.ZipFile(packaged / "deployment.zip") as bundle:
        names = bundle.namelist()
        unzipped = sum(i.file_size for i in bundle.infolist())
    tops = {n.split("/")[0] for n in names}
    for unwanted in ("moto", "pytest", "boto3", "botocore", "hypothesis", "schemathesis", "cfnlint", "werkzeug"):
        assert unwanted not in tops, unwanted
    assert "chalice/app.py" in names and "chalice/cli/__init__.py" not in names
    assert "app.py" in names and "chalicelib/config.py" in names and not any(n.startswith("tests/") for n in names)
    assert "lingua" not in tops, "the language detector belongs in its layer"
    assert unzipped < LAMBDA_BUNDLE_LIMIT
    zipped = (packaged / "deployment.zip").stat().st_size
    assert zipped < LAMBDA_DIRECT_UPLOAD_LIMIT
    print(f"bundle: {zipped / 1e6:.1f} MB zipped, {unzipped / 1e6:.1f} MB unzipped")


def test_every_function_runs_the_current_runtime_with_wheels_built_for_it(packaged: Path,
                                                                          template: dict[str, Any]) -> None:
    """The runtime is fixed (python3.13), not the build's own Python: the template says so and every
    compiled extension in the bundle is the one for that runtime and the stage's architecture."""
    runtimes = {v["Properties"]["Runtime"] for v in _functions(template).values()}
    assert runtimes == {LAMBDA_RUNTIME}
    with zipfile.ZipFile(packaged / "deployment.zip") as bundle:
        compiled = [n for n in bundle.namelist() if n.endswith(".so")]
    assert any(n.startswith("pydantic_core/") for n in compiled), "pydantic-core's extension is missing"
    wrong = [n for n in compiled if not re.search(r"(cpython-313-aarch64-linux-gnu|abi3)\.so$", n)
             and "/.libs/" not in n and ".libs/" not in n]
    assert not wrong, wrong


def test_the_language_detector_is_a_layer_on_the_stream_consumer_alone(packaged: Path,
                                                                        template: dict[str, Any]) -> None:
    functions = _functions(template)
    with_layer = {k for k, v in functions.items() if v["Properties"].get("Layers")}
    assert with_layer == {"ReportRollups"}
    consumer = functions["ReportRollups"]["Properties"]
    assert consumer["Layers"] == [{"Ref": LANGUAGE_LAYER}]
    layer = template["Resources"][LANGUAGE_LAYER]["Properties"]
    assert layer["ContentUri"] == f"./{LANGUAGE_LAYER_ZIP}"
    assert layer["CompatibleArchitectures"] == consumer["Architectures"]
    assert layer["CompatibleRuntimes"] == [consumer["Runtime"]]
    with zipfile.ZipFile(packaged / LANGUAGE_LAYER_ZIP) as zipped:
        names = zipped.namelist()
        layer_size = sum(i.file_size for i in zipped.infolist())
    assert all(n.startswith("python/") for n in names)
    assert "python/lingua/__init__.py" in names
    # The compiled detector is the one for the function's Python and architecture (arm64 for prod).
    assert any(re.fullmatch(r"python/lingua/lingua\.cpython-313-aarch64-linux-gnu\.so", n) for n in names), names
    with zipfile.ZipFile(packaged / "deployment.zip") as bundle:
        bundle_size = sum(i.file_size for i in bundle.infolist())
    assert bundle_size + layer_size < LAMBDA_BUNDLE_LIMIT  # Lambda counts a function's layers in its limit


def _users(names: set[str]) -> set[tuple[str, str]]:
    """(file, innermost function) pairs in app.py and chalicelib that call or pass on any of `names`."""
    found = set()
    for path in [ROOT / "app.py", *sorted((ROOT / "chalicelib").rglob("*.py"))]:
        for function in ast.walk(ast.parse(path.read_text())):
            if not isinstance(function, ast.FunctionDef):
                continue
            nested = {id(n) for inner in ast.walk(function) if inner is not function
                      and isinstance(inner, ast.FunctionDef) for n in ast.walk(inner)}
            for node in ast.walk(function):
                name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""
                if name in names and id(node) not in nested:
                    found.add((str(path.relative_to(ROOT)), function.name))
    return found


def test_only_the_stream_consumer_can_reach_the_language_detector() -> None:
    """The layer is on one function: nothing any other function runs may detect a language."""
    importers = {str(p.relative_to(ROOT)) for p in [ROOT / "app.py", *(ROOT / "chalicelib").rglob("*.py")]
                 if re.search(r"^\s*(from|import) (lingua|chalicelib\.adapters\.language)\b", p.read_text(), re.M)}
    assert importers == {"chalicelib/adapters/language.py", "chalicelib/services/language.py"}
    assert _users({"detect_language"}) == {("chalicelib/services/language.py", "set_from_message")}
    assert _users({"set_from_message"}) == {("chalicelib/services/language.py", "apply_stream_records")}
    # The name is the rollups' entry too: both are called by the table's stream consumer alone.
    assert _users({"apply_stream_records"}) == {("chalicelib/services/table_stream.py", "apply_stream_records"),
                                                ("chalicelib/handlers/rollups.py", "report_rollups")}
    assert _users({"report_rollups"}) == set()  # Lambda's stream event source invokes it


# -- the merge rules for consumers and schedules, with a shape that has every kind of function ------------


def _shape() -> AppShape:
    consumers = [Consumer(f"handle_{q}", f"leadline-prod-{q}", 10) for q in ("timers", "outbox", "reports")]
    return AppShape(functions=["api_handler", *(c.name for c in consumers), "nightly"], consumers=consumers,
                    schedules=[Schedule("nightly", "cron(0 7 * * ? *)")])


def test_merge_template_wires_each_consumer_to_its_infra_queue() -> None:
    merged = build_merge_template("prod", _shape())
    reports = merged["Resources"]["HandleReports"]["Properties"]
    event = reports["Events"]["HandleReportsSqsEventSource"]["Properties"]
    assert event == {"Queue": {"Fn::Sub": "${ReportsQueue.Arn}"}, "FunctionResponseTypes": ["ReportBatchItemFailures"]}
    assert reports["Timeout"] == 300  # ReportsQueue's consumer_timeout_seconds
    consume = next(s for s in merged["Resources"]["DefaultRole"]["Properties"]["Policies"][0]["PolicyDocument"]
                   ["Statement"] if s["Sid"] == "QueuesConsume")
    assert [r["Fn::Sub"] for r in consume["Resource"]] == [
        "${OutboxQueue.Arn}", "${ReportsQueue.Arn}", "${TimersQueue.Arn}"]
    assert "NightlyLogGroup" in merged["Resources"] and "Events" not in merged["Resources"]["Nightly"]["Properties"]


def test_a_consumer_of_an_unknown_queue_fails_the_package() -> None:
    shape = AppShape(functions=["handle_mystery"], consumers=[Consumer("handle_mystery", "leadline-prod-mystery", 10)])
    with pytest.raises(PackageError, match="mystery"):
        build_merge_template("prod", shape)


def test_a_function_name_too_long_for_lambda_fails_the_package() -> None:
    long_name = "handle_" + "x" * 60
    with pytest.raises(PackageError, match="64"):
        build_merge_template("prod", AppShape(functions=[long_name]))


def test_verify_catches_a_consumer_without_partial_batches() -> None:
    shape = AppShape(functions=["handle_timers"], consumers=[Consumer("handle_timers", "leadline-prod-timers", 10)])
    bad = {"Resources": {"HandleTimers": {"Type": "AWS::Serverless::Function", "Properties": {
        "Environment": {"Variables": {}},
        "Events": {"HandleTimersSqsEventSource": {"Type": "SQS", "Properties": {
            "Queue": {"Fn::Sub": "arn:aws:sqs:us-east-1:1:leadline-prod-timers", "Fn::GetAtt": ["TimersQueue", "Arn"]},
        }}}}}}}
    problems = "\n".join(verify_template(bad, shape))
    assert "ReportBatchItemFailures" in problems and "two intrinsic" in problems and "LEADLINE_TABLE_NAME" in problems


def test_unknown_stage_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PackageError, match="staging"):
        package("staging", tmp_path)


def test_the_report_rollups_read_the_tables_stream_filtered_with_partial_batches(template: dict[str, Any]) -> None:
    from chalicelib.adapters.dynamodb.leads import LANGUAGE_WANTED
    from chalicelib.services.rollups import ROLLED_UP_TYPES
    from leadline.package import STREAM_ITEM_TYPES

    resources = template["Resources"]
    assert resources["Table"]["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    [event] = resources["ReportRollups"]["Properties"]["Events"].values()
    props = event["Properties"]
    assert event["Type"] == "DynamoDB" and props["Stream"] == {"Fn::Sub": "${Table.StreamArn}"}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"] and props["BisectBatchOnFunctionError"]
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::Sub": "${RollupsDeadLetterQueue.Arn}"}
    reports, messages = (json.loads(f["Pattern"]) for f in props["FilterCriteria"]["Filters"])
    assert reports["dynamodb"]["NewImage"]["type"]["S"] == list(STREAM_ITEM_TYPES) == list(ROLLED_UP_TYPES)
    # Lambda ORs the filters: a customer's message stored with the marker for its lead's language.
    assert messages == {"eventName": ["INSERT"], "dynamodb": {"NewImage": {LANGUAGE_WANTED: {"BOOL": [True]}}}}
    age = resources["ReportRollupsIteratorAgeAlarm"]["Properties"]
    assert (age["MetricName"], age["Threshold"]) == ("IteratorAge", 60_000)
    statements = {s["Sid"]: s for p in resources["DefaultRole"]["Properties"]["Policies"]
                  for s in p["PolicyDocument"]["Statement"]}
    assert statements["TableStream"]["Resource"] == [{"Fn::Sub": "${Table.StreamArn}"}]
