"""The baseline of ``bench/throughput.py``: a bare Litestar app that echoes what it is sent.

    uv run python bench/bare_app.py --port 8001

Same server and settings as ``cep serve`` (uvicorn, one worker, loop and HTTP implementation
left to uvicorn's ``auto`` choice, no access log, warnings only, no ``server`` header), and
the same kind of JSON body as the orientation endpoint, decoded strictly into a bounded
Struct: what is left when the kit's work (hooks, rules, storage, authentication, security
headers) is taken away.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import Annotated

import msgspec
from litestar import Litestar, get, post, put
from litestar.params import Body

Short = Annotated[str, msgspec.Meta(max_length=40)]


class Echo(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The orientation body's shape (a situation), bounded like the kit's input Structs."""

    birth_date: date
    status: Short
    as_of: date | None = None
    cadre: bool = False
    registered_jobseeker: bool = False
    disability_recognition: bool = False
    working: bool = False
    seeking_job: bool = False
    region: Annotated[str, msgspec.Meta(max_length=3)] | None = None


class Draft(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A step draft's shape (``PUT .../steps/{id}``)."""

    data: dict[str, Annotated[str, msgspec.Meta(max_length=2000)]]
    complete: bool = False


class Item(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    echo: str


@post("/echo", sync_to_thread=False, status_code=200)
def echo(data: Annotated[Echo, Body()]) -> Echo:
    return data


@get("/echo/{item_id:str}", sync_to_thread=False)
def read(item_id: str) -> Item:
    return Item(id=item_id, echo="lu")


@put("/echo/{item_id:str}", sync_to_thread=False)
def write(item_id: str, data: Annotated[Draft, Body()]) -> Draft:
    return data


@get("/ping", sync_to_thread=False)
def ping() -> dict[str, str]:
    return {"status": "ok"}


app = Litestar(route_handlers=[echo, read, write, ping])


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="Bare Litestar echo app (baseline).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    # The very call `cep serve` makes (cep_core/cli/commands.py).
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()
