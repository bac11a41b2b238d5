"""Leadline: the Chalice app. Routes, consumers and schedules live in chalicelib/handlers;
this file wires them and the Powertools middleware, nothing else."""

from chalice import Chalice, ConvertToMiddleware

from chalicelib.handlers import accounts, cadences, local_auth, notifications, system, users
from chalicelib.handlers import channels as channels_handlers
from chalicelib.handlers import conversations as conversations_handlers
from chalicelib.handlers import follow_through as follow_through_handlers
from chalicelib.handlers import leads as leads_handlers
from chalicelib.handlers import reports as reports_handlers
from chalicelib.handlers import rollups as rollups_handlers
from chalicelib.handlers import routing as routing_handlers
from chalicelib.handlers import webhooks as webhooks_handlers
from chalicelib.handlers.http import console_cors, method_not_allowed
from chalicelib.observability import flush_metrics, logger, observe_http, trace_handler

app = Chalice(app_name="leadline")
# Correlation id: API Gateway's request id for HTTP; absent for queue and schedule events.
app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context(correlation_id_path="requestContext.requestId")),
                        "all")
app.register_middleware(trace_handler, "all")
# Registered before observe_http so it wraps it: one flush per invocation, after the metrics are added.
app.register_middleware(flush_metrics, "all")
app.register_middleware(observe_http, "http")
app.register_middleware(method_not_allowed, "http")
app.register_middleware(console_cors, "http")

app.register_blueprint(system.bp)
app.register_blueprint(local_auth.bp)
app.register_blueprint(users.bp)
app.register_blueprint(accounts.bp)
app.register_blueprint(notifications.bp)
app.register_blueprint(leads_handlers.bp)
app.register_blueprint(routing_handlers.bp)
app.register_blueprint(follow_through_handlers.bp)
app.register_blueprint(reports_handlers.bp)
app.register_blueprint(rollups_handlers.bp)
app.register_blueprint(conversations_handlers.bp)
app.register_blueprint(cadences.bp)
app.register_blueprint(webhooks_handlers.bp)
app.register_blueprint(channels_handlers.bp)
