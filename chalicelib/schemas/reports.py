"""What crosses the edge for /reports: query parameters and response shapes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import ConfigDict, Field, field_validator

from chalicelib.model import BaseModel

# Report dates outside this span are typos (and would overflow timezone arithmetic).
EARLIEST_DAY, LATEST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def _sane_day(value: date | None) -> date | None:
    if value is not None and not EARLIEST_DAY <= value <= LATEST_DAY:
        raise ValueError(f"must be between {EARLIEST_DAY} and {LATEST_DAY}")
    return value


class ReportQuery(BaseModel):
    """`from` / `to`: calendar dates in each store's timezone (default: the last 30 days, today
    included). `as_of`: read outcomes up to this instant (default now)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    account_id: str | None = Field(default=None, max_length=100)
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    as_of: datetime | None = None

    @field_validator("account_id", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("from_", "to")
    @classmethod
    def _day_in_range(cls, value: date | None) -> date | None:
        return _sane_day(value)

    @field_validator("as_of")
    @classmethod
    def _needs_offset(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a UTC offset or Z")
        if value is not None and not EARLIEST_DAY.year <= value.year <= LATEST_DAY.year:
            raise ValueError(f"must be between {EARLIEST_DAY} and {LATEST_DAY}")
        return value


class ResponseTimeQuery(ReportQuery):
    group_by: Literal["agent", "account", "source", "source_group"] = "agent"
    buckets: str | None = Field(default=None, max_length=200)


class ResponseLeadsQuery(ReportQuery):
    source: str | None = Field(default=None, min_length=1, max_length=200)
    agent: str | None = Field(default=None, min_length=1, max_length=100)

    @field_validator("source", "agent", mode="before")
    @classmethod
    def _blank_is_none_too(cls, value: object) -> object:
        return None if value == "" else value


class OverviewQuery(ReportQuery):
    kind: Literal["sales", "service"] = "sales"


class StoreQuery(BaseModel):
    """One store, or every store the caller can see."""

    model_config = ConfigDict(extra="ignore")

    account_id: str | None = Field(default=None, max_length=100)


class StaleQuery(StoreQuery):
    hours: float = Field(default=24, gt=0, le=24 * 366)


class FilesQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    account_id: str | None = Field(default=None, max_length=100)
    day: date | None = Field(default=None, alias="date")

    @field_validator("day")
    @classmethod
    def _day_in_range(cls, value: date | None) -> date | None:
        return _sane_day(value)


class NightlyJob(BaseModel):
    """A message on the reports queue: write one store's files for one day."""

    model_config = ConfigDict(populate_by_name=True)

    kind: Literal["nightly"] = "nightly"
    account_id: str = Field(min_length=1, max_length=100)
    day: date = Field(alias="date")


# -- responses ---------------------------------------------------------------------------

class Period(BaseModel):
    from_: date = Field(alias="from")
    to: date
    as_of: str


class TimeToAccept(BaseModel):
    median_s: float | None
    mean_s: float | None


class AgentRow(BaseModel):
    user_id: str
    name: str
    score: int
    offered: int
    accepted: int
    declined: int
    timed_out: int
    assigned: int
    claimed: int
    owned: int
    contacted: int
    not_contacted: int
    in_progress: int
    closed_won: int
    closed_lost: int
    comments: int
    avg_comments_per_lead: float
    first_response_median_s: float | None = Field(description="median seconds to the first human response of "
                                                  "the leads the response-time report puts on them")
    targets_met: int = Field(description="response deadlines they met as the owner")
    targets_missed: int = Field(description="response deadlines they missed as the owner")


class DashboardResponse(BaseModel):
    period: Period
    account_ids: list[str]
    leads: int
    accepted: int
    acceptance_rate: float
    catchall_accepted: int
    catchall_acceptance_rate: float
    delinquent: int
    time_to_accept: TimeToAccept
    targets_met: int
    targets_missed: int
    targets_met_pct: float | None = Field(description="share of the period's decided response deadlines that "
                                          "were met, 0..100 (null: none was decided)")
    agents: list[AgentRow]


class BucketRow(BaseModel):
    from_h: float
    to_h: float
    count: int
    pct: float


class ResponseTimeRow(BaseModel):
    key: str
    label: str
    leads: int
    responded: int
    not_responded: int
    mean_s: float | None
    median_s: float | None
    within_24h: int
    within_24h_pct: float
    buckets: list[BucketRow]


class ResponseTimeResponse(BaseModel):
    period: Period
    account_ids: list[str]
    group_by: str
    items: list[ResponseTimeRow]
    totals: ResponseTimeRow


class ResponseLeadRow(BaseModel):
    """A lead of the period and its response (domain/reports/response.response_leads)."""

    lead_id: str
    name: str | None = Field(description="the customer's name (null: the lead is gone)")
    account_id: str
    source: str
    assigned_to: str | None = Field(description="the owner as of the cutoff")
    agent_name: str | None
    responded_by: str | None = Field(description="who answered first")
    received_at: str = Field(description="when the customer sent the lead")
    clock_started_at: str = Field(description="when the response clock started (the next opening if closed)")
    first_response_at: str | None
    first_response_kind: str | None = Field(description="message, email, call, activity, appointment, responded")
    response_s: float | None = Field(description="clock start to the first human response (null: not answered)")
    within_target: bool | None = Field(description="the first first-response deadline met (null: no target "
                                       "decided)")


class ResponseLeadsPage(BaseModel):
    period: Period
    account_ids: list[str]
    items: list[ResponseLeadRow]
    next_cursor: str | None = None


class LeadSourceRow(BaseModel):
    source: str
    leads: int
    hot: int
    duplicates: int
    no_email: int
    no_phone: int
    appointments: int
    showed: int
    sold: int


class LeadSourcesResponse(BaseModel):
    period: Period
    account_ids: list[str]
    items: list[LeadSourceRow]
    totals: LeadSourceRow


class AssistantCounts(BaseModel):
    """The cadences' work over the period's leads (domain/reports/assistant.py defines each count)."""

    enrolled: int
    contacted: int
    engaged: int
    engaged_pct: float
    hot: int
    appointments: int
    opted_out: int
    stopped_by_staff: int


class AssistantCadenceRow(AssistantCounts):
    cadence_id: str
    name: str


class AssistantFigures(AssistantCounts):
    by_cadence: list[AssistantCadenceRow]


class AssistantResponse(AssistantFigures):
    period: Period
    account_ids: list[str]


class OverviewFigures(BaseModel):
    leads: int
    requests: int
    duplicates: int
    accepted: int
    acceptance_rate: float
    catchall_accepted: int
    delinquent: int
    responded: int
    within_24h: int
    mean_response_s: float | None
    median_response_s: float | None
    appointments: int
    showed: int
    sold: int
    assistant: AssistantFigures


class OverviewRow(OverviewFigures):
    account_id: str
    name: str


class OverviewResponse(BaseModel):
    period: Period
    kind: str
    totals: OverviewFigures
    accounts: list[OverviewRow]


class InternetResponseResponse(BaseModel):
    account_ids: list[str]
    since: str
    until: str
    leads: int
    responded_12h: int
    not_responded: int
    mean_s: float | None
    median_s: float | None


class StaleLead(BaseModel):
    lead_id: str
    account_id: str
    name: str
    status: str
    source: str
    awaiting_since: str
    waiting_s: int
    assigned_to: str | None
    agent_name: str | None


class StalePage(BaseModel):
    items: list[StaleLead]
    next_cursor: str | None = None


class ReportFile(BaseModel):
    key: str
    account_id: str
    date: str
    url: str
    bytes: int


class ReportFilesResponse(BaseModel):
    items: list[ReportFile]
