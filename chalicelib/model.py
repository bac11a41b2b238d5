"""The base of every pydantic model in chalicelib.

`defer_build` postpones building a model's validator until its first use: a Lambda cold
start imports ~100 models but a request touches a handful (see bench/cold_start.py)."""

from pydantic import BaseModel as _PydanticBaseModel
from pydantic import ConfigDict


class BaseModel(_PydanticBaseModel):
    model_config = ConfigDict(defer_build=True)
