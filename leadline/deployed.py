"""The CLI against a deployed stage: found by its CloudFormation stack, reached with the
operator's own AWS credentials (profile, environment or SSO), never a secret on the command line.

`leadline bootstrap --stack NAME` creates a group's first group_admin in the stage's table and
its Cognito pool (Cognito mails the temporary password); `leadline sign-in --stack NAME` turns
an email and password (asked on the terminal) into the bearer token the API takes."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from typing import Any

from chalicelib.adapters.aws import aws_error_code

# The stack outputs these commands need (infra/deploy.json writes them).
TABLE_OUTPUT = "TableName"
POOL_OUTPUT = "UserPoolId"
CLIENT_OUTPUT = "UserPoolClientId"


class DeployedStackError(Exception):
    """The stack cannot be used (absent, still creating, missing outputs) or sign-in failed."""


@dataclass(frozen=True)
class DeployedStack:
    name: str
    region: str
    table_name: str
    user_pool_id: str
    app_client_id: str
    outputs: dict[str, str] = field(default_factory=dict)


def find_stack(name: str, region: str | None) -> DeployedStack:
    import boto3

    if region:
        # The app's own clients (chalicelib.adapters.aws) follow the process's default region.
        os.environ["AWS_DEFAULT_REGION"] = os.environ["AWS_REGION"] = region
    session = boto3.session.Session()
    if not session.region_name:
        raise DeployedStackError("no AWS region: pass --region or set AWS_REGION")
    try:
        stacks = session.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    except Exception as exc:
        if aws_error_code(exc) == "ValidationError":
            raise DeployedStackError(f"no stack named {name!r} in {session.region_name}") from exc
        raise
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    missing = [key for key in (TABLE_OUTPUT, POOL_OUTPUT, CLIENT_OUTPUT) if not outputs.get(key)]
    if missing:
        raise DeployedStackError(f"stack {name!r} has no output {', '.join(missing)}: is it a Leadline stack "
                                 f"that finished deploying? (status {stacks[0].get('StackStatus')})")
    return DeployedStack(name=name, region=session.region_name, table_name=outputs[TABLE_OUTPUT],
                         user_pool_id=outputs[POOL_OUTPUT], app_client_id=outputs[CLIENT_OUTPUT], outputs=outputs)


def deps_for(stack: DeployedStack) -> Any:
    """Deps whose settings are the stage's: its table and its Cognito pool."""
    from chalicelib.config import Settings
    from chalicelib.deps import Deps

    settings = Settings(table_name=stack.table_name, auth_mode="cognito", cognito_region=stack.region,
                        cognito_user_pool_id=stack.user_pool_id, cognito_app_client_id=stack.app_client_id)
    return Deps(settings=settings)


def _ask_new_password() -> str:
    for _ in range(3):
        first = getpass.getpass("Choose a new password: ")
        if first and first == getpass.getpass("Repeat the new password: "):
            return first
        print("The two did not match (or were empty); again.")
    raise DeployedStackError("no new password chosen")


def sign_in(stack: DeployedStack, email: str) -> str:
    """Cognito's USER_PASSWORD_AUTH flow, answering the first-sign-in password change and an
    authenticator-app code when the user has MFA on. Returns the access token."""
    import boto3

    idp = boto3.session.Session(region_name=stack.region).client("cognito-idp")
    try:
        step = idp.initiate_auth(ClientId=stack.app_client_id, AuthFlow="USER_PASSWORD_AUTH",
                                 AuthParameters={"USERNAME": email, "PASSWORD": getpass.getpass("Password: ")})
        while "AuthenticationResult" not in step:
            challenge = step.get("ChallengeName")
            if challenge == "NEW_PASSWORD_REQUIRED":
                answer = {"NEW_PASSWORD": _ask_new_password()}
            elif challenge == "SOFTWARE_TOKEN_MFA":
                answer = {"SOFTWARE_TOKEN_MFA_CODE": input("Authenticator code: ").strip()}
            else:
                raise DeployedStackError(f"Cognito asks for {challenge}, which this command cannot answer; "
                                         "sign in through your app instead")
            step = idp.respond_to_auth_challenge(ClientId=stack.app_client_id, ChallengeName=challenge,
                                                 Session=step["Session"],
                                                 ChallengeResponses={"USERNAME": email, **answer})
    except Exception as exc:
        code = aws_error_code(exc)
        if code in ("NotAuthorizedException", "UserNotFoundException"):
            raise DeployedStackError("wrong email or password (or the temporary password has expired: "
                                     "ask an admin to invite you again)") from exc
        if code in ("InvalidPasswordException", "CodeMismatchException", "InvalidParameterException"):
            raise DeployedStackError(str(exc.args[0] if exc.args else code)) from exc
        raise
    return str(step["AuthenticationResult"]["AccessToken"])
