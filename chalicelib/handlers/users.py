"""People: /users and /me."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.domain.users import User
from chalicelib.handlers.http import PAGING_QUERY, Call, api
from chalicelib.lazy import lazy_module
from chalicelib.schemas.common import Page
from chalicelib.schemas.tenancy import CreateUserRequest, MeResponse, UpdateMeRequest, UpdateUserRequest, UserResponse

if TYPE_CHECKING:
    from chalicelib.services import users as service
else:
    service = lazy_module("chalicelib.services.users")


bp = Blueprint(__name__)


def user_view(user: User) -> dict[str, Any]:
    return UserResponse.model_validate(user.model_dump(mode="json")).model_dump(mode="json")


@api(bp, "/me", "GET", response=MeResponse,
     summary="The caller, with role, account_ids and the groups they belong to (X-Leadline-Group picks one)")
def get_me(call: Call) -> Any:
    me = service.own_record(call.deps, call.principal)
    view = user_view(me)
    view["account_ids"] = sorted(call.principal.visible_account_ids)
    view["groups"] = [vars(m) for m in service.groups_of(call.deps, me)]
    return view


@api(bp, "/me", "PATCH", body=UpdateMeRequest, response=UserResponse,
     summary="Availability (an unavailable agent is skipped by routing), name, phone, notifications")
def patch_me(call: Call) -> Any:
    return user_view(service.update_me(call.deps, call.principal, call.body))


@api(bp, "/users", "POST", body=CreateUserRequest, response=UserResponse, status=201, summary="Invite a user (admin)")
def create_user(call: Call) -> Any:
    return user_view(service.create_user(call.deps, call.principal, call.body))


@api(bp, "/users", "GET", response=Page, query=PAGING_QUERY, summary="Users of the caller's stores, by email")
def list_users(call: Call) -> Any:
    limit, cursor = call.paging()
    users, following = service.list_users(call.deps, call.principal, limit, cursor)
    return {"items": [user_view(u) for u in users], "next_cursor": following}


@api(bp, "/users/{user_id}", "GET", response=UserResponse, summary="One user")
def get_user(call: Call, user_id: str) -> Any:
    return user_view(service.get_user(call.deps, call.principal, user_id))


@api(bp, "/users/{user_id}", "PATCH", body=UpdateUserRequest, response=UserResponse, summary="Change a user")
def patch_user(call: Call, user_id: str) -> Any:
    return user_view(service.update_user(call.deps, call.principal, user_id, call.body))


@api(bp, "/users/{user_id}", "DELETE", status=204, summary="Delete a user; their tokens stop working at once")
def delete_user(call: Call, user_id: str) -> Any:
    service.delete_user(call.deps, call.principal, user_id)
    return Response(body="", status_code=204)
