"""Stores: /accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.domain.accounts import Account
from chalicelib.domain.tenancy import Principal
from chalicelib.handlers.http import PAGING_QUERY, Call, api
from chalicelib.lazy import lazy_module
from chalicelib.schemas.common import Page
from chalicelib.schemas.tenancy import AccountResponse, CreateAccountRequest, UpdateAccountRequest

if TYPE_CHECKING:
    from chalicelib.services import accounts as service
else:
    service = lazy_module("chalicelib.services.accounts")


bp = Blueprint(__name__)


def account_view(account: Account, actor: Principal) -> dict[str, Any]:
    data = account.model_dump()
    if not service.shows_api_key(actor):
        data["api_key"] = None
    return AccountResponse.model_validate(data).model_dump(mode="json")


@api(bp, "/accounts", "POST", body=CreateAccountRequest, response=AccountResponse, status=201,
     summary="Open a store (group_admin)")
def create_account(call: Call) -> Any:
    return account_view(service.create_account(call.deps, call.principal, call.body), call.principal)


@api(bp, "/accounts", "GET", response=Page, query=PAGING_QUERY,
     summary="The stores the caller may see, by account_id (creation order)")
def list_accounts(call: Call) -> Any:
    limit, cursor = call.paging()
    accounts, following = service.list_accounts(call.deps, call.principal, limit, cursor)
    return {"items": [account_view(a, call.principal) for a in accounts], "next_cursor": following}


@api(bp, "/accounts/{account_id}", "GET", response=AccountResponse, summary="One store")
def get_account(call: Call, account_id: str) -> Any:
    return account_view(service.get_account(call.deps, call.principal, account_id), call.principal)


@api(bp, "/accounts/{account_id}", "PATCH", body=UpdateAccountRequest, response=AccountResponse,
     summary="Change a store's settings (admin)")
def patch_account(call: Call, account_id: str) -> Any:
    return account_view(service.update_account(call.deps, call.principal, account_id, call.body), call.principal)
