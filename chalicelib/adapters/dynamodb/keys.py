"""The single-table key design of Leadline: every entity, key, index and access pattern.

One table (`LEADLINE_TABLE_NAME`), keys `PK` / `SK` (strings), a TTL attribute `ttl`
(epoch seconds), and overloaded sparse GSIs `GSI1`..`GSI7`, each keyed
`GSI<n>PK` / `GSI<n>SK` and projecting ALL. The table and indexes are defined once in
`infra/resources.json`; the local stack and the tests create them from that file.
Nothing above `adapters/dynamodb/` ever sees a PK, an SK or an index name.

Times in keys are `clock.iso()` strings (UTC, milliseconds, `Z`) so they sort
lexically; ids are ULID-based (`ids.new_id`) and sort by creation time.

Entities and their keys
-----------------------
| entity              | PK                                  | SK                        | indexes (PK / SK)                                                    |
|---------------------|-------------------------------------|---------------------------|----------------------------------------------------------------------|
| group               | GROUP#{group_id}                    | GROUP                     |                                                                      |
| account (store)     | ACCOUNT#{account_id}                | ACCOUNT                   | GSI1 GROUP#{g}#ACCOUNTS / {account_id}                               |
|                     |                                     |                           | GSI2 ACCOUNTS / {account_id}   (every store: nightly reports)        |
| sms number lookup   | SMSNUMBER#{e164}                    | LOOKUP                    |   -> account_id, twilio_account_sid (the webhook's signing account)  |
| sms sender pointer  | SMSNUMBER#{e164}                    | SENDER#{sender e164}      |   -> account_id, lead_id, owner_id: a hint (see below); ttl 1 year   |
| messenger page      | PAGE#{page_id}                      | LOOKUP                    |                                                                      |
| provider api key    | APIKEY#{sha256(key)}                | LOOKUP                    |                                                                      |
| store mailbox       | MAILBOX#{email_from, lower case}    | LOOKUP                    |   -> account_id (mail to a store's address)                          |
| reply token         | MAILTOKEN#{token}                   | LOOKUP                    |   -> lead_id, account_id (mail to a lead's reply address)            |
| upload (attachment) | ATTACHMENT#{attachment_id}          | ATTACHMENT                |   lead, declared type, state pending|ready; ttl 1 day while pending |
| routing config      | ACCOUNT#{account_id}                | ROUTING                   |                                                                      |
| routing rotation    | ACCOUNT#{account_id}                | ROTATION                  |                                                                      |
| arrival cadences    | ACCOUNT#{account_id}                | ARRIVALS                  |   -> ids: string set of the store's new-lead cadences (absent: none) |
| user                | USER#{user_id}                      | USER                      | GSI1 GROUP#{g}#USERS / {email}                                       |
| email lookup        | EMAIL#{email}                       | LOOKUP                    |   -> identity_id (legacy: user_id), members (memberships it has)     |
| membership          | IDENTITY#{identity}                 | MEMBER#{group_id}         |   -> user_id, joined_at (a person's record in that group)            |
| notification        | USER#{user_id}                      | NOTIFICATION#{ntf_id}     |                                                                      |
| score event         | USER#{user_id}                      | SCORE#{at}#{event_id}     |                                                                      |
| lead                | LEAD#{lead_id}                      | LEAD                      | GSI1 ACCOUNT#{a}#LEADS / {last_activity_at}#{lead_id}                 |
|                     |                                     |                           | GSI2 ACCOUNT#{a}#FOLDER#{status or dead} / {last_activity_at}#{lead_id}|
|                     |                                     |                           | GSI3 ACCOUNT#{a}#AWAITING / {awaiting_since}#{lead_id}   (sparse)     |
|                     |                                     |                           | GSI4 ACCOUNT#{a}#FLAG#{done|appointments|showed|scheduled|due|delinquent}|
|                     |                                     |                           |      / {flag time}#{lead_id}; one flag per item, see below            |
|                     |                                     |                           | GSI5 ACCOUNT#{a}#AGENT#{user_id} / {last_activity_at}#{lead_id}       |
|                     |                                     |                           | GSI7 DUE#CADENCE#{shard} / {cadence.next_at}#{lead_id}                |
|                     |                                     |                           |      (sparse: an active enrolment; its state is the lead's `cadence`) |
| lead flag marker    | LEAD#{lead_id}                      | FLAG#{flag}               | GSI4 ACCOUNT#{a}#FLAG#{flag} / {flag time}#{lead_id}                  |
|                     |                                     |                           | FLAG#due only: GSI7 DUE#DEADLINE#{shard} / {warn_at, then due_at}#{lead_id}|
|                     |                                     |                           |   (a response deadline not yet decided; the lead item's own GSI7 slot |
|                     |                                     |                           |   is its cadence step's: one due-index key per item)                  |
| timeline event      | LEAD#{lead_id}                      | EVENT#{event_id}          |   a message's event_id is its message_id                              |
|                     |                                     |                           |   language_wanted: true on a customer's message whose lead has no     |
|                     |                                     |                           |   language yet (the stream consumer sets it; see "A lead's language") |
| call (click-to-call)| LEAD#{lead_id}                      | EVENT#{call_id}           |   a timeline `call` event, updated through its statuses (data.version)|
| outbound message    | OUTBOX#{message_id}                 | OUTBOX                    | GSI7 DUE#MESSAGE#{shard} / {due_at}#{message_id} (sparse: scheduled, queued)|
| contact key         | ACCOUNT#{a}#CONTACT#{kind}#{value}  | CONTACT                   |   kind: phone (E.164), email (lower), messenger (PSID)                |
| provider message id | PROVIDERMSG#{provider}#{sid}        | LOOKUP                    |   -> lead_id, message_id, account_id, provider_account (callbacks)   |
| webhook dedup       | DEDUP#{source}#{id}                 | DEDUP                     |   ttl 7 days                                                          |
| ADF delivery        | DEDUP#adf#{account_id}#{digest}     | DEDUP                     |   -> lead_id, coalesced_into; ttl 30 days (a provider's resend)      |
| offer               | OFFER#{offer_id}                    | OFFER                     | GSI6 USER#{agent}#OFFERS / {expires_at}#{offer_id}  (sparse: pending) |
|                     |                                     |                           | GSI7 DUE#OFFER#{shard} / {expires_at}#{offer_id}    (sparse: pending) |
|                     |                                     |                           |   ttl 90 days after it is decided                                     |
| lead waiting opening| LEAD#{lead_id}                      | WAITING                   | GSI7 DUE#OPENING#{shard} / {opens_at}#{lead_id}                       |
| store opening marker| ACCOUNT#{account_id}                | REVIVAL#{opens_at}        | GSI7 DUE#REVIVAL#{shard} / {opens_at}#{account_id}                    |
|                     |                                     |                           |   the store's delinquent leads are offered again when it opens; one   |
|                     |                                     |                           |   per store and opening (a put: leads going delinquent share it)      |
| feedback earned     | LEAD#{lead_id}                      | FEEDBACK#{user_id}        |   the feedback score parts a user already earned on the lead          |
| appointment         | APPOINTMENT#{appointment_id}        | APPOINTMENT               | GSI1 ACCOUNT#{a}#APPOINTMENTS / {at}#{appointment_id}                 |
| saved reply         | SAVEDREPLY#{saved_reply_id}         | SAVEDREPLY                | GSI1 ACCOUNT#{a}#SAVEDREPLIES / {title}#{saved_reply_id}              |
| cadence             | CADENCE#{cadence_id}                | CADENCE                   | GSI1 ACCOUNT#{a}#CADENCES / {name lower}#{cadence_id}                 |
| report event        | ACCOUNT#{a}#REPORT#{yyyy-mm-dd}     | {at}#{event_id}           |   one partition per store and day (UTC day of the event)              |
| report ledger       | LEAD#{lead_id}                      | REPORTLEDGER              |   every fact the reports keep of the lead, with event ids (rollups)  |
| report rollup day   | ROLLUP#{a}                          | DAY#{yyyy-mm-dd}          |   per UTC day: each lead that arrived, each repeat request and score  |
|                     |                                     |                           |   entry of the day, with the lead-ledger version it came from        |
| idempotency record  | IDEMPOTENCY#{function}              | {hash of the payload}     |   Powertools idempotency, ttl                                         |
| sandbox send        | SANDBOX#{account_id or "staff"}     | {at}#{send_id}            |   what the local sandbox sender "delivered" (ttl 30 days)             |

Report rollups: the table's stream (NEW_IMAGE) feeds one consumer (handlers/rollups.py; deployed
with a filter to `type` report_event / score, and a second to messages inserted with `language_wanted`:
"A lead's language" below). Per record it adds the fact to the lead's ledger
(PutItem conditional on the ledger's `version`) and then rewrites the lead's share on each rollup
day it touches (PutItem conditional on the day's `version`; a day keeps a lead's share only from a
newer ledger version). A batch whose ledgers and days are at most 8 items (a lead's batch: its
ledger and arrival day) writes them all in one TransactWriteItems, each on its version; a bigger
batch, or one that lost a race, writes them one by one as above. Both items hold compact JSON compressed with zlib (`entries` / `facts`,
binary). A store's days sort by day in one partition, so any report period is one Query per store
(pattern 34): a day is about 100-200 bytes a lead, a 1 MB page a year of a store taking ~15-30
leads a day (bench/report_scaling.py). Write rate: a rollup day is written once per consumer batch
that touches it (a store's day takes a few writes a minute at most), far under an item's limit.

A lead's language: derived from its customer's first words by the table's stream consumer. A
customer's message stored on a lead with no language yet (an SMS, Messenger message or email on an
open lead; the first message of a lead intake made for an unknown sender) carries a top-level
`language_wanted` (BOOL true), written with the message in its lead's transaction: no extra call. The
stream's second filter passes such items when inserted (a later change of the message does not), and
the consumer (services/language.py) detects the language of the message's `data.body` and sets it
with one UpdateItem on the lead (pattern 41): `SET language, version = version + 1` on
`attribute_exists(PK) AND attribute_not_exists(language)`. Every other writer Puts the whole lead on
`version = :seen`, so raising the version makes a save read before it fail and decide again on the
lead with its language (neither write loses the other's). A lead with flag copies then has them
rewritten from the updated lead in one TransactWriteItems, each Put on `version = :seen` (the version
before): a save in between wrote them itself. A failed condition is a named outcome, never a retry:
`kept` (the lead has a language: an earlier message's, or a person's) or `gone` (no such lead).

SMS sender pointers: an inbound SMS names the store's number and the customer's; the webhook reads
the number's lookup (whose Twilio account signs the request) and the pointer of that sender on that
number in one BatchGetItem (pattern 39), then the contact key, the lead the pointer names, the store
and the owner the pointer names in a second (pattern 40): two reads before the message's transaction,
where a contact key read, a lead read and an owner read were three. The pointer is a hint, never
trusted: it counts only when its `account_id` is the number's store now (a number moved to another
store is routed by the lookup at once) and the store's contact key, read with the lead, still points
at its `lead_id`; the owner's record read with it counts only when it is the lead's `assigned_to`.
Otherwise the webhook decides from the contact key as without a pointer (and reads the lead or the
owner it lacks). A lead's change writes the pointer when it differs from what the webhook read —
intake's new lead with a phone (store number known), a message recorded on the lead, a transition
that gives the lead a new owner — always inside that lead's transaction (conditional on the lead's
`version`). It is the one unconditional Put of the design, on purpose: a hint read under verification
is safe whatever order its writes land in (a stale one costs the reads above, never a misrouted
message), and a condition on it could only cancel the lead change it rides with. Write rate: a
number's partition takes its senders' pointer writes, at most one per message, far under the limit.

Folder flags: a lead is in at most one status folder (GSI2) but may be in several flag
folders at once (done, appointments, showed, scheduled). Each flag is its own small
item under the lead's partition (`FLAG#{flag}`) carrying the lead's summary, so every
flag folder is one sparse Query. The flags are written in the same transaction as the
lead change that sets them, and rewritten with the lead's `last_activity_at`.
The flag time (`Lead.flag_time`) is the last activity, except for the two timed folders read
oldest first: `due` (an owned lead with a running response deadline) by its `due_at`, soonest
first; `delinquent` (nobody took it) by the lead's arrival, oldest first (offered again first).

People and memberships: a person (the directory's `sub`, their tokens' subject) holds one
sign-in address (`EMAIL#` lookup, counting the memberships it has) and one user record per group
they belong to (`MEMBER#{group}` under `IDENTITY#{sub}` names it). The first record of a person is
`USER#{sub}`, so resolving a token without `X-Leadline-Group` is one GetItem. Joining, leaving and
moving a record to another person change the record, the membership items and the lookup's count
in one transaction, conditioned on the count read, so the last one out releases the address.

Access patterns (each one GetItem or Query; never a Scan)
---------------------------------------------------------
| # | pattern                                         | how                                                         |
|---|-------------------------------------------------|-------------------------------------------------------------|
| 1 | group by id                                     | GetItem GROUP#{g} / GROUP                                    |
| 2 | account by id                                   | GetItem ACCOUNT#{a} / ACCOUNT                                |
| 3 | accounts of a group                             | Query GSI1 GROUP#{g}#ACCOUNTS                                |
|   |   (GET /accounts of a group_admin: paged by account_id; anyone else: BatchGet of their page's ids, #2) | |
| 4 | account by SMS number / page id / api key       | GetItem SMSNUMBER# / PAGE# / APIKEY# lookup                  |
| 5 | user by id (every authenticated request)        | GetItem USER#{u} / USER                                      |
|   |   (accepting an offer reads it with the offer: #22)         |                                                             |
| 6 | person by email (sign-in, invitations)          | GetItem EMAIL#{email} / LOOKUP -> identity                   |
|6a | a person's memberships (auth fallback, /me)     | Query IDENTITY#{i}, SK begins_with MEMBER#                   |
|6b | a person's record in a group (X-Leadline-Group) | GetItem IDENTITY#{i} / MEMBER#{g}, then #5                   |
|6c | a group's user by email (mentions, invitations) | Query GSI1 GROUP#{g}#USERS, GSI1SK = {email}                 |
| 7 | users of a group (admin list, routing pool)     | Query GSI1 GROUP#{g}#USERS                                   |
|   |   (GET /users: paged by email, Queries read on past users the caller cannot see until the page is full) | |
| 8 | a store's record, routing config, rotation, arrival cadences (intake skips 33 when none) | BatchGetItem ACCOUNT#{a} / ACCOUNT, ROUTING, ROTATION, ARRIVALS |
|   |   (routing a lead: BatchGetItem ACCOUNT#{a} / ACCOUNT, ROUTING, ROTATION, consistent: one read) |     |
| 9 | lead by id                                      | GetItem LEAD#{l} / LEAD                                      |
|10 | inbox of a store, newest activity first         | Query GSI1 ACCOUNT#{a}#LEADS, ScanIndexForward=false         |
|11 | status folder (hot, warm, cold, follow_up, sold, dead, new) | Query GSI2 ACCOUNT#{a}#FOLDER#{status}, desc       |
|12 | awaiting folder, longest waiting first          | Query GSI3 ACCOUNT#{a}#AWAITING, asc                         |
|13 | done / appointments / showed / scheduled folder | Query GSI4 ACCOUNT#{a}#FLAG#{flag}, desc                     |
|   | due folder (soonest deadline) / delinquent folder (oldest; re-offered in that order) | same, asc |
|14 | leads assigned to an agent (restricted agents, assigned_to filter) | Query GSI5 ACCOUNT#{a}#AGENT#{u}, desc    |
|15 | all stores of the caller                        | #10-#14 once per store, merged by sort key (cursor per store) |
|16 | filters source / campaign / label / q           | the folder's Query + FilterExpression on lead attributes     |
|   |   (q matches `search`: names, email, phone digits in lower case, on lead and flag items) |                |
|17 | timeline of a lead, oldest first                | Query LEAD#{l}, SK begins_with EVENT#                        |
|   |   (then sorted by `at`, then the id's ULID: one process's ids of one millisecond keep their order) |   |
|18 | message by id (cancel, status)                  | GetItem LEAD#{l} / EVENT#{message_id}                        |
|19 | message by provider sid (delivery callback)     | GetItem PROVIDERMSG#{provider}#{sid} / LOOKUP, then #18      |
|20 | open lead of a contact (coalescing, inbound)    | GetItem ACCOUNT#{a}#CONTACT#{kind}#{value} / CONTACT         |
|   |   (an SMS without a sender pointer, a Messenger message, a store's email: with #8's keys in one BatchGetItem: an unknown sender's lead is made and routed on them) | |
|21 | webhook / message dedup                         | Put DEDUP#... with attribute_not_exists(lead_id), in the transaction that stores the message (a new contact's: intake's, its first write) |
|22 | offer by id (accept / decline / timer)          | GetItem OFFER#{o} / OFFER                                    |
|   |   (accept: BatchGetItem OFFER#{o} / OFFER with the caller's USER#{sub} / USER, consistent: #5 and #22 in one read) | |
|23 | an agent's pending offers                       | Query GSI6 USER#{u}#OFFERS                                   |
|24 | due offers / due scheduled messages / leads waiting for opening / leads whose cadence step is due / response deadlines (warning, then deadline) / store openings with delinquent leads (sweeps) | Query GSI7 DUE#{kind}#{shard}, SK <= now, every shard |
|   |   (a due message is claimed before its job goes: TransactWriteItems of <= 100 Updates moving its GSI7SK one grace on) | |
|25 | notifications of a user, newest first           | Query USER#{u}, SK begins_with NOTIFICATION#, desc           |
|26 | score events of a user in a date range          | Query USER#{u}, SK between SCORE#{from} and SCORE#{to}       |
|27 | appointments of a store                         | Query GSI1 ACCOUNT#{a}#APPOINTMENTS                          |
|28 | saved replies of a store                        | Query GSI1 ACCOUNT#{a}#SAVEDREPLIES                          |
|29 | report events of a store for a day              | Query ACCOUNT#{a}#REPORT#{day}                               |
|30 | sandbox sends of a store (local stack, tests)   | Query SANDBOX#{a}                                            |
|31 | every store (nightly report fan-out)            | Query GSI2 ACCOUNTS                                          |
|32 | cadence by id (edit, manual enrolment, a due step) | GetItem CADENCE#{c} / CADENCE                             |
|33 | cadences of a store (list; intake, while 8 names a new-lead cadence or is unknown) | Query GSI1 ACCOUNT#{a}#CADENCES |
|34 | a store's report rollup for a period            | Query ROLLUP#{a}, SK BETWEEN DAY#{first} AND DAY#{last} (UTC days) |
|   |   (plus the live tail: #29 for the last `report_tail_seconds`, and #35 for the leads in it)  |            |
|35 | report ledgers of leads (consumer, live tail)   | BatchGetItem LEAD#{l} / REPORTLEDGER                         |
|36 | rollup days a consumer batch touches            | BatchGetItem ROLLUP#{a} / DAY#{day}                          |
|   |   (the consumer reads #35 with the days its records fall on in one BatchGetItem; the rest after) |    |
|37 | store of a mailbox / lead of a reply token (inbound email) | GetItem MAILBOX# / MAILTOKEN# lookup              |
|38 | an upload by id (sending it)                    | GetItem ATTACHMENT#{id} / ATTACHMENT                         |
|39 | an SMS webhook's number and sender              | BatchGetItem SMSNUMBER#{to} / LOOKUP, SMSNUMBER#{to} / SENDER#{from}, consistent |
|40 | a conversation's lead as the pointer names it   | BatchGetItem contact key (#20), LEAD#{l} / LEAD, ACCOUNT#{a} / ACCOUNT, USER#{owner} / USER, consistent |
|41 | stream consumer detects a lead's language       | UpdateItem LEAD#{l} / LEAD (from a stream record of EVENT#{m} with language_wanted) |

Due index shards
----------------
Every timer of every tenant waits in the due index (pattern 24) until the sweep finds it, and each
entry costs index writes: an offer two (made, decided), a message two or three (queued / scheduled,
fired, sent). One index partition takes about 1,000 write units a second (fewer when items pass 1 KB),
and a time-ordered sort key gives DynamoDB's adaptive capacity nothing to split on; one `DUE#OFFER`
partition would cap the whole installation near 500 offers a second. So each kind is spread over
DUE_SHARDS = 8 partitions `DUE#{kind}#{shard}`, the shard a CRC-32 of the entry's id (due.shard_of):
about 8,000 index writes a second per kind — ~4,000 offers and ~3,000 outbound messages a second
across all tenants, far beyond a dealer group's peak (a 50-store group's busiest minute is tens of
leads). A sweep reads the 8 shards of each kind (6 kinds — OFFER, OPENING, MESSAGE, CADENCE, DEADLINE,
REVIVAL: 48 Queries a minute when nothing is due).
More shards are one constant; existing entries move on their next write.

Races and their conditions
--------------------------
- email, SMS number, page id, mailbox, reply token, contact keys: `attribute_not_exists(PK)`.
- dedup keys: `attribute_not_exists(lead_id)` (every record names its lead; an item without one is a claim
  a release before 2026-11-27 left unfinished, taken over).
- uploads: `state = pending` when the first message that sends one moves it into the media bucket.
- lead changes by routing: `routing_version = :expected` on the lead, in one transaction
  with the offer (`state = pending`), the score event and the timeline event.
- locks: `attribute_not_exists(locked_by) OR locked_by = :me OR lock_expires_at < :now`.
- the caller's user record, when a use case authorised on the record it read with its own reads (accept):
  a ConditionCheck `updated_at = :seen AND deleted = false` in the use case's transaction (CallerChanged:
  read the caller again and authorise again), so a user deleted or changed meanwhile is refused.
- cadences: a new one `attribute_not_exists(PK)`; an edit `version = :seen` (VersionConflict). An enrolment
  changes with its lead (the lead's `version`), so a step, a stop and a staff action cannot cross.
- a store's arrival cadences (ARRIVALS): every cadence write (add, edit, delete) is one transaction with an
  UpdateItem of ARRIVALS, `ADD ids :id` when the cadence is a new-lead one after the write, else `DELETE ids :id`,
  on `attribute_exists(PK)`. Set operations on one id commute, and the cadence's own condition orders two writes
  of one cadence, so two managers editing a store's cadences at once leave the set exact. A store without the
  item (cadences last written before it was kept) is "unknown": intake Queries (pattern 33) as before, and the
  next cadence write fills it from that Query with a Put on `attribute_not_exists(PK)` (a racing fill loses
  and applies its id to the winner's set instead).
- report ledgers and rollup days: `attribute_not_exists(PK)` on the first write, then `version = :seen`
  (LedgerChanged / RollupDayChanged: re-read and apply again).
- outbound messages: `status = scheduled` when firing or cancelling; `status = queued` and no live
  claim when the outbox takes one to send, with the lead's `opted_out <> true` in the same transaction.
  The sweep claims a due message before it enqueues its job: its GSI7 sort key moves one grace on, on
  `GSI7SK = the key it read` (TransactWriteItems of up to 100; outbox.CLAIM_BATCH says why), so two
  overlapping sweeps enqueue it once and one sent, dropped or fired meanwhile is not claimed (DueClaims.moved_on).
Each failed condition reaches the services as a named conflict (domain/errors.py), never as a
transaction's cancellation reasons: the lead's version LeadChanged, a rotation or waiting marker
VersionConflict, an offer / appointment / message that left the expected state AlreadyDecided, a live
claim ClaimHeld, an opted-out lead at claim time LeadOptedOut, a dedup key DuplicateDelivery, a contact
key ContactTaken, a unique lookup Conflict.taken naming the field, the caller's record CallerChanged.

Repositories (each a port on Deps, chalicelib/ports.py)
------------------------------------------------------
tenancy.py (1-7: groups, accounts, users, lookups) · leads.py (9-17, 20: leads, flags, timelines,
contact keys, score and report records) · routing.py (8, 22-24, 26: config, rotation, offers, waiting,
store openings, feedback) · outbox.py (outbound messages, 24) · due.py (24: the sharded due index both read) · deliveries.py (19, 21: provider ids, dedup keys) ·
appointments.py (27) · saved_replies.py (28) · notifications.py (25) · reports.py (29, 31) ·
cadences.py (32, 33, and 24 for due cadence steps: the lead items themselves) ·
calls.py (a call event's status updates, conditional on its data.version: VersionConflict) ·
attachments.py (38, a message's copied attachments) · mailboxes.py (37: reply tokens; store mailboxes are
written by tenancy.py with the store).
"""

from __future__ import annotations

GSI_COUNT = 7


def gsi(n: int) -> tuple[str, str, str]:
    """(index name, partition attribute, sort attribute) of GSI n."""
    return f"GSI{n}", f"GSI{n}PK", f"GSI{n}SK"


# -- tenancy ------------------------------------------------------------------------

def group_key(group_id: str) -> dict[str, str]:
    return {"PK": f"GROUP#{group_id}", "SK": "GROUP"}


def account_key(account_id: str) -> dict[str, str]:
    return {"PK": f"ACCOUNT#{account_id}", "SK": "ACCOUNT"}


def group_accounts_pk(group_id: str) -> str:
    return f"GROUP#{group_id}#ACCOUNTS"


def user_key(user_id: str) -> dict[str, str]:
    return {"PK": f"USER#{user_id}", "SK": "USER"}


def group_users_pk(group_id: str) -> str:
    return f"GROUP#{group_id}#USERS"


def email_lookup_key(email: str) -> dict[str, str]:
    return {"PK": f"EMAIL#{email}", "SK": "LOOKUP"}


def identity_pk(identity: str) -> str:
    return f"IDENTITY#{identity}"


def membership_key(identity: str, group_id: str) -> dict[str, str]:
    return {"PK": identity_pk(identity), "SK": f"MEMBER#{group_id}"}


def sms_number_lookup_key(e164: str) -> dict[str, str]:
    return {"PK": f"SMSNUMBER#{e164}", "SK": "LOOKUP"}


def sms_sender_key(e164: str, sender: str) -> dict[str, str]:
    """The pointer of a customer's number on a store's SMS number (pattern 39; a hint, see above)."""
    return {"PK": f"SMSNUMBER#{e164}", "SK": f"SENDER#{sender}"}


def page_lookup_key(page_id: str) -> dict[str, str]:
    return {"PK": f"PAGE#{page_id}", "SK": "LOOKUP"}


def api_key_lookup_key(key_hash: str) -> dict[str, str]:
    return {"PK": f"APIKEY#{key_hash}", "SK": "LOOKUP"}


def mailbox_lookup_key(address: str) -> dict[str, str]:
    return {"PK": f"MAILBOX#{address.lower()}", "SK": "LOOKUP"}


def reply_token_key(token: str) -> dict[str, str]:
    return {"PK": f"MAILTOKEN#{token}", "SK": "LOOKUP"}


def attachment_key(attachment_id: str) -> dict[str, str]:
    return {"PK": f"ATTACHMENT#{attachment_id}", "SK": "ATTACHMENT"}


def routing_key(account_id: str) -> dict[str, str]:
    return {"PK": f"ACCOUNT#{account_id}", "SK": "ROUTING"}


def arrivals_key(account_id: str) -> dict[str, str]:
    """One per store: the ids of its new-lead cadences, read with its routing (pattern 8)."""
    return {"PK": f"ACCOUNT#{account_id}", "SK": "ARRIVALS"}


def rotation_key(account_id: str) -> dict[str, str]:
    """One per store: who was offered when (store-wide) and the weighted credits of each rule's pool."""
    return {"PK": f"ACCOUNT#{account_id}", "SK": "ROTATION"}


def notification_key(user_id: str, notification_id: str) -> dict[str, str]:
    return {"PK": f"USER#{user_id}", "SK": f"NOTIFICATION#{notification_id}"}


def score_event_key(user_id: str, at: str, event_id: str) -> dict[str, str]:
    return {"PK": f"USER#{user_id}", "SK": f"SCORE#{at}#{event_id}"}


# -- leads --------------------------------------------------------------------------

def lead_key(lead_id: str) -> dict[str, str]:
    return {"PK": f"LEAD#{lead_id}", "SK": "LEAD"}


def lead_flag_key(lead_id: str, flag: str) -> dict[str, str]:
    return {"PK": f"LEAD#{lead_id}", "SK": f"FLAG#{flag}"}


def timeline_event_key(lead_id: str, event_id: str) -> dict[str, str]:
    return {"PK": f"LEAD#{lead_id}", "SK": f"EVENT#{event_id}"}


def lead_waiting_key(lead_id: str) -> dict[str, str]:
    return {"PK": f"LEAD#{lead_id}", "SK": "WAITING"}


def lead_feedback_key(lead_id: str, user_id: str) -> dict[str, str]:
    return {"PK": f"LEAD#{lead_id}", "SK": f"FEEDBACK#{user_id}"}


def account_leads_pk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}#LEADS"


def account_folder_pk(account_id: str, folder: str) -> str:
    return f"ACCOUNT#{account_id}#FOLDER#{folder}"


def account_awaiting_pk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}#AWAITING"


def account_flag_pk(account_id: str, flag: str) -> str:
    return f"ACCOUNT#{account_id}#FLAG#{flag}"


def account_agent_pk(account_id: str, user_id: str) -> str:
    return f"ACCOUNT#{account_id}#AGENT#{user_id}"


def activity_sk(at: str, lead_id: str) -> str:
    return f"{at}#{lead_id}"


def contact_key(account_id: str, kind: str, value: str) -> dict[str, str]:
    return {"PK": f"ACCOUNT#{account_id}#CONTACT#{kind}#{value}", "SK": "CONTACT"}


def provider_message_key(provider: str, sid: str) -> dict[str, str]:
    return {"PK": f"PROVIDERMSG#{provider}#{sid}", "SK": "LOOKUP"}


def dedup_key(source: str, dedup_id: str) -> dict[str, str]:
    return {"PK": f"DEDUP#{source}#{dedup_id}", "SK": "DEDUP"}


# -- routing, timers ----------------------------------------------------------------

def offer_key(offer_id: str) -> dict[str, str]:
    return {"PK": f"OFFER#{offer_id}", "SK": "OFFER"}


def revival_key(account_id: str, opens_at: str) -> dict[str, str]:
    """A store's delinquent leads are offered again at this opening."""
    return {"PK": f"ACCOUNT#{account_id}", "SK": f"REVIVAL#{opens_at}"}


def agent_offers_pk(user_id: str) -> str:
    return f"USER#{user_id}#OFFERS"


# The due index's partitions per kind (adapters/dynamodb/due.py); see "Due index shards" above.
DUE_SHARDS = 8


def due_pk(kind: str, shard: int) -> str:
    """kind: OFFER, MESSAGE, OPENING, CADENCE; shard: 0..DUE_SHARDS-1 (due.shard_of the entry's id)."""
    return f"DUE#{kind}#{shard}"


# -- conversations, reports ----------------------------------------------------------

def appointment_key(appointment_id: str) -> dict[str, str]:
    return {"PK": f"APPOINTMENT#{appointment_id}", "SK": "APPOINTMENT"}


def account_appointments_pk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}#APPOINTMENTS"


def saved_reply_key(saved_reply_id: str) -> dict[str, str]:
    return {"PK": f"SAVEDREPLY#{saved_reply_id}", "SK": "SAVEDREPLY"}


def account_saved_replies_pk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}#SAVEDREPLIES"


def cadence_key(cadence_id: str) -> dict[str, str]:
    return {"PK": f"CADENCE#{cadence_id}", "SK": "CADENCE"}


def account_cadences_pk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}#CADENCES"


def report_day_pk(account_id: str, day: str) -> str:
    return f"ACCOUNT#{account_id}#REPORT#{day}"


def report_ledger_key(lead_id: str) -> dict[str, str]:
    """A lead's report ledger: every fact the reports keep of it, with event ids (rollup state)."""
    return {"PK": f"LEAD#{lead_id}", "SK": "REPORTLEDGER"}


def rollup_pk(account_id: str) -> str:
    """A store's report rollup: one item per UTC day, sorted by day."""
    return f"ROLLUP#{account_id}"


def rollup_day_key(account_id: str, day: str) -> dict[str, str]:
    return {"PK": rollup_pk(account_id), "SK": f"DAY#{day}"}


def all_accounts_pk() -> str:
    """GSI2 partition listing every store (the nightly reports fan out over it)."""
    return "ACCOUNTS"


def sandbox_send_key(account_id: str | None, at: str, send_id: str) -> dict[str, str]:
    return {"PK": sandbox_pk(account_id), "SK": f"{at}#{send_id}"}


def sandbox_pk(account_id: str | None) -> str:
    return f"SANDBOX#{account_id or 'staff'}"


def outbox_key(message_id: str) -> dict[str, str]:
    """The sending state of one outbound message (recipient, attempts, claim); its timeline event shows it."""
    return {"PK": f"OUTBOX#{message_id}", "SK": "OUTBOX"}
