"""Who signs people in: Leadline itself (local stack, tests) or a Cognito user pool (deployed).

See chalicelib/domain/directory.py for why the directory chooses the user id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.adapters.aws import aws_error_code, client
from chalicelib.domain.directory import Invitation
from chalicelib.domain.errors import Conflict, ValidationFailed
from chalicelib.ids import new_id


class LocalDirectory:
    """Tokens are minted by Leadline for any user id it knows, so there is nothing to keep."""

    def invite(self, email: str, name: str, at: datetime) -> Invitation:
        return Invitation(user_id=new_id("usr", at), created=True)

    def withdraw(self, invitation: Invitation) -> None:
        return None

    def change_email(self, user_id: str, email: str) -> None:
        return None

    def remove(self, user_id: str) -> None:
        return None


class CognitoDirectory:
    """Cognito chooses each user's `sub`; Leadline keeps it as the user id.

    Users are addressed by `sub` in every admin call: Cognito accepts it whatever the pool's
    username attribute is. A new user gets Cognito's invitation mail with a temporary password."""

    def __init__(self, user_pool_id: str) -> None:
        if not user_pool_id:
            raise ValueError("LEADLINE_COGNITO_USER_POOL_ID is not set")
        self.user_pool_id = user_pool_id

    @property
    def _idp(self) -> Any:
        return client("cognito-idp")

    def invite(self, email: str, name: str, at: datetime) -> Invitation:
        try:
            created = self._idp.admin_create_user(
                UserPoolId=self.user_pool_id, Username=email, DesiredDeliveryMediums=["EMAIL"],
                UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"},
                                {"Name": "name", "Value": name}],
            )
        except Exception as exc:
            code = aws_error_code(exc)
            if code == "UsernameExistsException":
                # Someone the pool already knows (a pool shared with other apps): link, don't re-invite.
                return Invitation(user_id=self._sub(self._idp.admin_get_user(
                    UserPoolId=self.user_pool_id, Username=email)["UserAttributes"]), created=False)
            if code == "InvalidParameterException":
                raise ValidationFailed.field("email", "the sign-in directory refused this address") from exc
            raise
        return Invitation(user_id=self._sub(created["User"]["Attributes"]), created=True)

    def withdraw(self, invitation: Invitation) -> None:
        if invitation.created:
            self.remove(invitation.user_id)

    def change_email(self, user_id: str, email: str) -> None:
        try:
            self._idp.admin_update_user_attributes(
                UserPoolId=self.user_pool_id, Username=user_id,
                UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
            )
        except Exception as exc:
            if aws_error_code(exc) in ("AliasExistsException", "UsernameExistsException"):
                raise Conflict.taken("email") from exc
            if aws_error_code(exc) == "UserNotFoundException":
                raise Conflict("this user can no longer sign in; invite them again") from exc
            raise

    def remove(self, user_id: str) -> None:
        try:
            self._idp.admin_delete_user(UserPoolId=self.user_pool_id, Username=user_id)
        except Exception as exc:
            if aws_error_code(exc) != "UserNotFoundException":
                raise

    @staticmethod
    def _sub(attributes: list[dict[str, str]]) -> str:
        for attribute in attributes:
            if attribute["Name"] == "sub":
                return attribute["Value"]
        raise RuntimeError("Cognito returned a user without a sub")
