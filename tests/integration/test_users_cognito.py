"""A deployed stage's sign-in: Cognito issues the tokens, Leadline keeps the records.

The user pool, its app client and the tokens are moto's (RS256, signed with moto's key,
verified against moto's published JWKS), so these tests walk the whole path an operator and
an invited agent take: bootstrap, invitation, first sign-in with the temporary password,
API calls, email change, deletion."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import moto.cognitoidp
import pytest

from chalicelib.adapters.aws import client
from chalicelib.clock import FixedClock
from chalicelib.deps import Deps, set_deps
from chalicelib.domain.errors import Conflict
from chalicelib.services import auth
from chalicelib.services.users import bootstrap_group
from tests.support import World

TEMPORARY = "Temporary-Pass-1"
PASSWORD = "Correct-Horse-42"
MOTO_JWKS = Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-public.json.gz"


class MotoJwks(jwt.PyJWKClient):
    """The pool's JWKS as moto publishes it, without an HTTP fetch."""

    def fetch_data(self) -> Any:
        return json.loads(gzip.decompress(MOTO_JWKS.read_bytes()))


@dataclass
class Pool:
    world: World
    pool_id: str
    client_id: str

    @property
    def idp(self) -> Any:
        return client("cognito-idp")

    def sign_in(self, email: str, password: str = TEMPORARY, client_id: str | None = None) -> str:
        """The access token a person gets by signing in (answering the first-time password change)."""
        started = self.idp.initiate_auth(ClientId=client_id or self.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                         AuthParameters={"USERNAME": email, "PASSWORD": password})
        if started.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
            started = self.idp.respond_to_auth_challenge(
                ClientId=client_id or self.client_id, ChallengeName="NEW_PASSWORD_REQUIRED",
                Session=started["Session"],
                ChallengeResponses={"USERNAME": email, "NEW_PASSWORD": PASSWORD})
        return str(started["AuthenticationResult"]["AccessToken"])

    def id_token(self, email: str) -> str:
        started = self.idp.initiate_auth(ClientId=self.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                         AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD})
        return str(started["AuthenticationResult"]["IdToken"])

    def temporary_password(self, email: str) -> None:
        """What Cognito's invitation mail carries (moto sends no mail, so set a known one)."""
        self.idp.admin_set_user_password(UserPoolId=self.pool_id, Username=email, Password=TEMPORARY,
                                         Permanent=False)

    def usernames(self) -> dict[str, str]:
        """email → sub of every user in the pool."""
        found = {}
        for user in self.idp.list_users(UserPoolId=self.pool_id)["Users"]:
            attributes = {a["Name"]: a["Value"] for a in user["Attributes"]}
            found[attributes["email"]] = attributes["sub"]
        return found


@pytest.fixture
def pool(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pool]:
    idp = client("cognito-idp")
    pool_id = idp.create_user_pool(PoolName="leadline-test", UsernameAttributes=["email"],
                                   AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="leadline-test-app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    settings = world.deps.settings.model_copy(update={
        "auth_mode": "cognito", "cognito_region": "us-east-1", "cognito_user_pool_id": pool_id,
        "cognito_app_client_id": client_id})
    # moto stamps its tokens with the wall clock.
    clock = FixedClock(datetime.now(UTC))
    deps = Deps(clock=clock, settings=settings)
    monkeypatch.setattr(auth, "_jwks_client", lambda url: MotoJwks(url))
    set_deps(deps)
    yield Pool(World(client=world.client, deps=deps, clock=clock), pool_id, client_id)


def first_admin(pool: Pool, email: str = "owner@acme.com") -> tuple[str, str]:
    """What `leadline bootstrap --stack` does, then the owner's first sign-in: (user_id, token)."""
    boot = bootstrap_group(pool.world.deps, "Acme Auto", email, "Olive Owner")
    pool.temporary_password(email)
    return boot.user.user_id, pool.sign_in(email)


def new_store(pool: Pool, token: str) -> str:
    reply = pool.world.post("/accounts", token, {"name": "Acme North", "timezone": "America/New_York"})
    assert reply.status == 201, reply.json
    return str(reply.json["account_id"])


def test_bootstrapped_owner_signs_in_and_the_token_sub_is_the_user_id(pool: Pool) -> None:
    user_id, access_token = first_admin(pool)

    assert pool.usernames() == {"owner@acme.com": user_id}
    for token in (access_token, pool.id_token("owner@acme.com")):
        me = pool.world.get("/me", token)
        assert me.status == 200, me.json
        assert me.json["user_id"] == user_id and me.json["role"] == "group_admin"


def test_an_invited_agent_signs_in_with_the_temporary_password(pool: Pool) -> None:
    _, owner = first_admin(pool)
    store = new_store(pool, owner)

    invited = pool.world.post("/users", owner, {"email": "Ann@Acme.com", "name": "Ann Agent", "role": "agent",
                                                "account_ids": [store]})
    assert invited.status == 201, invited.json
    assert pool.usernames()["ann@acme.com"] == invited.json["user_id"]

    pool.temporary_password("ann@acme.com")
    token = pool.sign_in("ann@acme.com")
    me = pool.world.get("/me", token)
    assert me.status == 200 and me.json["user_id"] == invited.json["user_id"]
    assert me.json["role"] == "agent" and me.json["account_ids"] == [store]
    assert pool.world.get("/users", token).status == 200


def test_an_address_already_in_use_is_409_and_leaves_the_pool_alone(pool: Pool) -> None:
    _, owner = first_admin(pool)
    store = new_store(pool, owner)
    before = pool.usernames()

    again = pool.world.post("/users", owner, {"email": "owner@acme.com", "name": "Twin", "role": "agent",
                                              "account_ids": [store]})

    assert again.status == 409 and again.json["error"]["details"] == [{"field": "email",
                                                                       "message": "is already in use"}]
    assert pool.usernames() == before


def test_a_record_that_cannot_be_written_withdraws_the_invitation(pool: Pool,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _, owner = first_admin(pool)
    store = new_store(pool, owner)
    before = pool.usernames()

    def lost_race(user: Any) -> None:
        raise Conflict("the change lost a race with another one")

    monkeypatch.setattr(pool.world.deps.users, "create", lost_race)
    reply = pool.world.post("/users", owner, {"email": "ann@acme.com", "name": "Ann", "role": "agent",
                                              "account_ids": [store]})

    assert reply.status == 409
    assert pool.usernames() == before


def test_someone_already_in_a_shared_pool_is_linked_not_reinvited(pool: Pool, monkeypatch: pytest.MonkeyPatch) -> None:
    _, owner = first_admin(pool)
    store = new_store(pool, owner)
    existing = pool.idp.admin_create_user(UserPoolId=pool.pool_id, Username="bob@acme.com",
                                          UserAttributes=[{"Name": "email", "Value": "bob@acme.com"}])
    bob_sub = next(a["Value"] for a in existing["User"]["Attributes"] if a["Name"] == "sub")

    failing = monkeypatch.context()
    with failing as patch:
        patch.setattr(pool.world.deps.users, "create", lambda user: (_ for _ in ()).throw(Conflict("lost")))
        assert pool.world.post("/users", owner, {"email": "bob@acme.com", "name": "Bob", "role": "agent",
                                                 "account_ids": [store]}).status == 409
    assert pool.usernames()["bob@acme.com"] == bob_sub  # a failed link does not remove him

    linked = pool.world.post("/users", owner, {"email": "bob@acme.com", "name": "Bob", "role": "agent",
                                               "account_ids": [store]})
    assert linked.status == 201 and linked.json["user_id"] == bob_sub


def test_an_email_change_moves_the_sign_in(pool: Pool) -> None:
    _, owner = first_admin(pool)
    store = new_store(pool, owner)
    ann = pool.world.post("/users", owner, {"email": "ann@acme.com", "name": "Ann", "role": "agent",
                                            "account_ids": [store]}).json
    pool.idp.admin_create_user(UserPoolId=pool.pool_id, Username="carol@acme.com",
                               UserAttributes=[{"Name": "email", "Value": "carol@acme.com"}])

    taken = pool.world.patch(f"/users/{ann['user_id']}", owner, {"email": "carol@acme.com"})
    assert taken.status == 409 and taken.json["error"]["details"][0]["field"] == "email"
    assert pool.world.get(f"/users/{ann['user_id']}", owner).json["email"] == "ann@acme.com"

    moved = pool.world.patch(f"/users/{ann['user_id']}", owner, {"email": "ann.new@acme.com"})
    assert moved.status == 200 and moved.json["email"] == "ann.new@acme.com"
    assert pool.usernames()["ann.new@acme.com"] == ann["user_id"]
    pool.temporary_password("ann.new@acme.com")
    assert pool.world.get("/me", pool.sign_in("ann.new@acme.com")).json["user_id"] == ann["user_id"]


def test_a_deleted_user_cannot_sign_in_and_can_be_invited_again(pool: Pool) -> None:
    _, owner = first_admin(pool)
    store = new_store(pool, owner)
    ann = pool.world.post("/users", owner, {"email": "ann@acme.com", "name": "Ann", "role": "agent",
                                            "account_ids": [store]}).json
    pool.temporary_password("ann@acme.com")
    token = pool.sign_in("ann@acme.com")

    assert pool.world.delete(f"/users/{ann['user_id']}", owner).status == 204

    assert pool.world.get("/me", token).status == 401
    assert "ann@acme.com" not in pool.usernames()
    again = pool.world.post("/users", owner, {"email": "ann@acme.com", "name": "Ann", "role": "agent",
                                              "account_ids": [store]})
    assert again.status == 201 and again.json["user_id"] != ann["user_id"]


def test_tokens_of_another_client_or_signed_locally_are_401(pool: Pool) -> None:
    user_id, _ = first_admin(pool)
    other_client = pool.idp.create_user_pool_client(
        UserPoolId=pool.pool_id, ClientName="another-app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])["UserPoolClient"]["ClientId"]

    foreign = pool.sign_in("owner@acme.com", PASSWORD, client_id=other_client)
    local = auth.mint_local_token("test-secret-0123456789abcdef0123456789", user_id,
                                  now=pool.world.clock.now().timestamp())

    for token in (foreign, local):
        reply = pool.world.get("/me", token)
        assert reply.status == 401 and reply.error_code == "unauthorized"


def test_a_token_signed_with_another_key_is_401(pool: Pool) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    user_id, access_token = first_admin(pool)
    claims = jwt.decode(access_token, options={"verify_signature": False})
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode({**claims, "sub": user_id}, forger, algorithm="RS256", headers={"kid": "dummy"})

    assert pool.world.get("/me", access_token).status == 200
    assert pool.world.get("/me", forged).status == 401


# -- the CLI against a deployed stage (found by its CloudFormation stack's outputs) ------------------------


def deployed_stack(pool: Pool) -> str:
    template = {"Resources": {"AlarmTopic": {"Type": "AWS::SNS::Topic"}}, "Outputs": {
        "TableName": {"Value": pool.world.deps.settings.table_name},
        "UserPoolId": {"Value": pool.pool_id}, "UserPoolClientId": {"Value": pool.client_id}}}
    client("cloudformation").create_stack(StackName="leadline-prod", TemplateBody=json.dumps(template))
    return "leadline-prod"


def answering(monkeypatch: pytest.MonkeyPatch, *answers: str) -> None:
    replies = iter(answers)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(replies))


def test_cli_bootstraps_a_deployed_stage_and_signs_the_owner_in(pool: Pool, capsys: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from leadline.cli import main

    stack = deployed_stack(pool)
    assert main(["bootstrap", "--stack", stack, "--region", "us-east-1", "--group", "Acme Auto",
                 "--email", "Owner@Acme.com", "--name", "Olive Owner"]) == 0
    printed = capsys.readouterr()
    boot = json.loads(printed.out)
    assert boot["token"] is None and "leadline sign-in --stack leadline-prod" in printed.err
    assert pool.usernames() == {"owner@acme.com": boot["user_id"]}

    pool.temporary_password("owner@acme.com")
    answering(monkeypatch, TEMPORARY, PASSWORD, PASSWORD)
    assert main(["sign-in", "--stack", stack, "--email", "owner@acme.com"]) == 0
    token = capsys.readouterr().out.strip()
    me = pool.world.get("/me", token)
    assert me.status == 200 and me.json["user_id"] == boot["user_id"] and me.json["role"] == "group_admin"

    answering(monkeypatch, "not-the-password")
    assert main(["sign-in", "--stack", stack, "--email", "owner@acme.com"]) == 1
    assert "wrong email or password" in capsys.readouterr().err


def test_cli_names_a_stack_that_is_not_there(pool: Pool, capsys: pytest.CaptureFixture[str]) -> None:
    from leadline.cli import main

    assert main(["sign-in", "--stack", "leadline-nowhere", "--email", "owner@acme.com"]) == 1
    assert "no stack named 'leadline-nowhere'" in capsys.readouterr().err


def test_a_person_another_group_invites_keeps_one_sign_in_and_picks_the_group(pool: Pool) -> None:
    owner_id, owner = first_admin(pool)
    other = bootstrap_group(pool.world.deps, "Beta Cars", "boss@beta.com", "Bea Boss")
    pool.temporary_password("boss@beta.com")
    beta = pool.sign_in("boss@beta.com")
    beta_store = new_store(pool, beta)
    before = pool.usernames()

    invited = pool.world.post("/users", beta, {"email": "owner@acme.com", "name": "Olive", "role": "agent",
                                               "account_ids": [beta_store]})

    assert invited.status == 201 and invited.json["user_id"] != owner_id
    assert pool.usernames() == before  # no second Cognito user, no new invitation mail
    assert pool.world.get("/me", owner).json["user_id"] == owner_id
    in_beta = pool.world.call("GET", "/me", owner, headers={"X-Leadline-Group": other.group.group_id})
    assert in_beta.status == 200 and in_beta.json["user_id"] == invited.json["user_id"]
    assert in_beta.json["role"] == "agent" and in_beta.json["account_ids"] == [beta_store]

    assert pool.world.delete(f"/users/{invited.json['user_id']}", beta).status == 204
    assert "owner@acme.com" in pool.usernames()  # Acme still has them
    assert pool.world.call("GET", "/me", owner, headers={"X-Leadline-Group": other.group.group_id}).status == 401
