"""Leadline: the Chalice app. Routes, consumers and schedules live in chalicelib/handlers;
this file wires them and the Powertools middleware, nothing else."""

from chalice import Chalice, ConvertToMiddleware

from chalicelib.handlers import accounts, notifications, system, users
from chalicelib.observability import logger

app = Chalice(app_name="leadline")
app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context(correlation_id_path="requestContext.requestId")),
                        "http")

app.register_blueprint(system.bp)
app.register_blueprint(users.bp)
app.register_blueprint(accounts.bp)
app.register_blueprint(notifications.bp)
