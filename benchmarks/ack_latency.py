"""Slack ack latency: koordinator's real server vs. a bare bolt app that only acks.

    python benchmarks/ack_latency.py [--requests 300] [--concurrency 20]

Both servers run as subprocesses on 127.0.0.1 behind uvicorn; koordinator is started exactly as in
production (`python -m bot serve`) on a fresh SQLite file, and gets signed `/concern new …` commands, so
every request also registers a case, queues a channel notice and answers on its response_url — after the
ack. A small fake Slack Web API (a third subprocess) answers auth.test, chat.postMessage and the
response_url. Only latency up to the HTTP response (the ack Slack waits for, at most 3 s) is measured;
each koordinator round waits until its work has drained, so every round starts from an idle server.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import uvicorn
from aiohttp import web
from fastapi import FastAPI, Request
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-signing-secret"
USER = "UBENCH"
TEXT = ('new severity=normal track=adult age=25+ source=hotline district=Valby basis=rpl115 '
        'summary="Benchmark concern"')
_ids = itertools.count(1)


# -- the bare app (run in its own subprocess with --serve-bare) ---------------------------------------------
def serve_bare(port: int, api_url: str) -> None:
    bolt = AsyncApp(client=AsyncWebClient(token="xoxb-bench", base_url=api_url), signing_secret=SECRET)

    @bolt.command("/concern")
    async def only_ack(ack) -> None:  # noqa: ANN001
        await ack()

    handler = AsyncSlackRequestHandler(bolt)
    app = FastAPI()

    @app.post("/slack/events")
    async def events(request: Request):  # noqa: ANN202 — annotations resolve in module globals
        return await handler.handle(request)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# -- the fake Slack Web API (its own subprocess too, so its work never delays the measuring client) ---------
async def slack_web_api(request: web.Request) -> web.Response:
    """The Web API methods koordinator calls, each answered at once."""
    method = request.match_info["method"]
    if method == "auth.test":
        return web.json_response({"ok": True, "team_id": "T0", "user_id": "U0BOT", "bot_id": "B0"})
    if method == "conversations.open":
        return web.json_response({"ok": True, "channel": {"id": "D0"}})
    return web.json_response({"ok": True, "ts": f"{time.time():.6f}", "channel": "C0"})


def serve_fake(port: int) -> None:
    responses = 0

    async def response_url(_request: web.Request) -> web.Response:
        nonlocal responses
        responses += 1
        return web.Response(text="ok")

    async def count(_request: web.Request) -> web.Response:
        return web.json_response({"responses": responses})

    app = web.Application()
    app.router.add_route("*", "/api/{method}", slack_web_api)
    app.router.add_post("/response/{key}", response_url)
    app.router.add_get("/count", count)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


async def drained(fake_port: int, expected: int, timeout: float = 120) -> None:
    """Until the fake has seen `expected` replies: koordinator's work after the acks is done."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            async with http.get(f"http://127.0.0.1:{fake_port}/count") as response:
                if (await response.json())["responses"] >= expected:
                    return
            await asyncio.sleep(0.1)


# -- load ---------------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def signed(fake_port: int) -> tuple[bytes, dict[str, str]]:
    n = next(_ids)
    body = urlencode({"command": "/concern", "text": TEXT, "user_id": USER, "user_name": "bench",
                      "channel_id": "C0UNIT", "team_id": "T0", "trigger_id": f"bench.{n}.{secrets.token_hex(4)}",
                      "response_url": f"http://127.0.0.1:{fake_port}/response/{n}"})
    ts = str(int(time.time()))
    return body.encode(), {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
                           "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)}


async def one(http: aiohttp.ClientSession, url: str, fake_port: int) -> float:
    body, headers = signed(fake_port)
    started = time.perf_counter()
    async with http.post(url, data=body, headers=headers) as response:
        await response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}")
    return (time.perf_counter() - started) * 1000


async def load(url: str, fake_port: int, requests: int, concurrency: int) -> list[float]:
    limit = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        async def guarded() -> float:
            async with limit:
                return await one(http, url, fake_port)
        return list(await asyncio.gather(*(guarded() for _ in range(requests))))


async def wait_healthy(base: str, proc: subprocess.Popen[bytes], path: str = "/healthz") -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(300):  # up to 30 s
            if proc.poll() is not None:
                raise RuntimeError("server exited during start-up")
            try:
                async with http.get(base + path) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("server did not become healthy")


def start_server(kind: str, port: int, api_url: str, workdir: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_"))}
    env["PYTHONPATH"] = str(ROOT)
    if kind == "fake":
        cmd = [sys.executable, str(Path(__file__).resolve()), "--serve-fake", str(port)]
    elif kind == "bare":
        cmd = [sys.executable, str(Path(__file__).resolve()), "--serve-bare", str(port), "--api-url", api_url]
    else:
        key = lambda: base64.b64encode(secrets.token_bytes(32)).decode()  # noqa: E731
        env.update({"DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}", "SLACK_BOT_TOKEN": "xoxb-bench",
                    "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": api_url, "PSEUDONYM_KEY": key(),
                    "DATA_KEY": key(), "ADMIN_USERS": USER, "UNIT_CHANNEL": "C0UNIT", "PORT": str(port)})
        cmd = [sys.executable, "-m", "bot", "serve"]
    with open(workdir / f"{kind}.log", "wb") as log:  # read back if the server fails to start
        return subprocess.Popen(cmd, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=log)


async def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate and wait, politely first."""
    proc.terminate()
    for _ in range(200):  # up to 20 s
        if proc.poll() is not None:
            return
        await asyncio.sleep(0.1)
    proc.kill()


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return q[49], q[94], q[98]


async def main(requests: int, concurrency: int, rounds: int) -> None:
    scenarios = {"sequential": 1, f"{concurrency} concurrent": concurrency}
    samples: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        ports = {kind: free_port() for kind in ("fake", "bare", "koordinator")}
        api_url = f"http://127.0.0.1:{ports['fake']}/api/"
        procs = {kind: start_server(kind, port, api_url, Path(tmp)) for kind, port in ports.items()}
        servers = {kind: ports[kind] for kind in ("bare", "koordinator")}
        fake_port = ports["fake"]
        try:
            await wait_healthy(f"http://127.0.0.1:{fake_port}", procs["fake"], "/count")
            for kind, port in servers.items():
                try:
                    await wait_healthy(f"http://127.0.0.1:{port}", procs[kind])
                except RuntimeError:
                    print((Path(tmp) / f"{kind}.log").read_text(errors="replace")[-2000:], file=sys.stderr)
                    raise
                await load(f"http://127.0.0.1:{port}/slack/events", fake_port, 20, 1)  # warm-up
            await drained(fake_port, 20)
            sent = 20
            for _round in range(rounds):  # rounds alternate, so a noisy moment on the machine hits both
                for kind, port in servers.items():
                    for scenario, parallel in scenarios.items():
                        url = f"http://127.0.0.1:{port}/slack/events"
                        samples.setdefault((kind, scenario), []).extend(
                            await load(url, fake_port, requests, parallel))
                        if kind == "koordinator":  # each round starts idle: wait for the work after the acks
                            sent += requests
                            await drained(fake_port, sent)
        finally:
            for kind in ("bare", "koordinator", "fake"):  # the fake last: the servers may still call it
                await stop(procs[kind])
    print(f"Slack ack latency in ms: {rounds} × {requests} signed /concern commands per row, 127.0.0.1, "
          f"{os.cpu_count()} CPUs\n")
    print("| load | server | p50 | p95 | p99 |")
    print("|---|---|---:|---:|---:|")
    for scenario in scenarios:
        b, r = percentiles(samples[("bare", scenario)]), percentiles(samples[("koordinator", scenario)])
        print(f"| {scenario} | bare bolt (ack only) | {b[0]:.1f} | {b[1]:.1f} | {b[2]:.1f} |")
        print(f"| {scenario} | koordinator | {r[0]:.1f} | {r[1]:.1f} | {r[2]:.1f} |")
        print(f"| {scenario} | **ratio** | {r[0] / b[0]:.2f}× | {r[1] / b[1]:.2f}× | **{r[2] / b[2]:.2f}×** |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--serve-fake", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare, args.api_url)
    elif args.serve_fake:
        serve_fake(args.serve_fake)
    else:
        asyncio.run(main(max(20, min(args.requests, 5000)), max(1, min(args.concurrency, 100)),
                         max(1, min(args.rounds, 20))))
