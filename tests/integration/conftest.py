"""The real adapters under moto (tests/aws_world.py): `aws`, `world`, `client`."""

from tests.aws_world import aws, client, world

__all__ = ["aws", "client", "world"]
