"""Sustained load: signed slash commands at rising rates against `python -m bot serve` on PostgreSQL, with the
worker (`python -m scheduler`) running beside it.

    python benchmarks/load.py [--rates 10,25,50,75,100] [--step-seconds 120] [--database-url postgresql://…]

Everything on 127.0.0.1 and bounded: each step sends rate × seconds commands at fixed intervals (open loop: a
slow server does not slow the sender down), waits at most 60 s for the answers, and the run stops after a step
whose p99 ack passed 3 s. The mix is that of a working day: 40 % `/concern new`, 25 % `/case show KE-…`,
25 % `/case list`, 10 % `/agenda`, from 50 admin users. A fake Slack Web API (a subprocess of its own)
answers the Web API calls and notes when each private answer reaches its response_url.

Per step it reports the achieved rate, ack latency (the HTTP answer Slack waits for, at most 3 s), the
latency of the private answer (request sent → answer received on the response_url), answers missing, and the
peak memory of the web process tree (server + its work processes) and the worker: RSS, and PSS (shared
pages divided among the processes that share them, so the sum is what the machine actually spends).
The database is a fresh schema on the given PostgreSQL server, dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.ack_latency import free_port, slack_web_api, stop, wait_healthy  # noqa: E402
from storage.db import migrate, pg_schema  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SECRET = "load-signing-secret"
USERS = [f"ULOAD{n:03d}" for n in range(50)]
CONCERN = ('new severity=normal track=adult age=25+ source=hotline district=Valby basis=rpl115 '
           'summary="Belastningstest"')
SEED_CASES = 20
MAX_IN_FLIGHT = 2000
ANSWER_WAIT_S = 60
_ids = itertools.count(1)


# -- the fake Slack Web API (own subprocess, so its work never delays the measuring client) --------------------
def serve_fake(port: int) -> None:
    answered: dict[str, float] = {}

    async def response_url(request: web.Request) -> web.Response:
        answered.setdefault(request.match_info["key"], time.time())
        return web.Response(text="ok")

    async def answers(_request: web.Request) -> web.Response:
        return web.json_response(answered)

    app = web.Application(client_max_size=16 << 20)
    app.router.add_route("*", "/api/{method}", slack_web_api)
    app.router.add_post("/response/{key}", response_url)
    app.router.add_get("/answers", answers)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


# -- processes -------------------------------------------------------------------------------------------------
def start(kind: str, cmd: list[str], env: dict[str, str], workdir: Path) -> subprocess.Popen[bytes]:
    with open(workdir / f"{kind}.log", "wb") as log:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)


def tree(pid: int) -> list[int]:
    """The process and its descendants (the web server's work processes)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def memory_mb(pid: int) -> tuple[float, float]:
    """RSS and PSS of the process tree, in MB."""
    rss = pss = 0
    for p in tree(pid):
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            continue
    return rss / 1024, pss / 1024


# -- load ------------------------------------------------------------------------------------------------------
@dataclass
class Step:
    rate: float
    sent: int = 0
    acks: list[float] = field(default_factory=list)  # ms
    errors: int = 0
    sent_at: dict[str, float] = field(default_factory=dict)  # response key → time.time() when sent
    answers: list[float] = field(default_factory=list)  # ms
    missing: int = 0
    seconds: float = 0.0
    web_mb: tuple[float, float] = (0.0, 0.0)
    worker_mb: tuple[float, float] = (0.0, 0.0)


def command(year: int, cases: int) -> tuple[str, str]:
    roll = random.random()
    if roll < 0.40:
        return "/concern", CONCERN
    if roll < 0.65:
        return "/case", f"show KE-{year}-{random.randint(1, max(cases, 1)):04d}"
    if roll < 0.90:
        return "/case", "list"
    return "/agenda", ""


def signed(fake_port: int, slash: str, text: str, key: str) -> tuple[bytes, dict[str, str]]:
    user = random.choice(USERS)
    body = urlencode({"command": slash, "text": text, "user_id": user, "user_name": user.lower(),
                      "channel_id": "C0UNIT", "team_id": "T0", "trigger_id": f"load.{key}.{secrets.token_hex(4)}",
                      "response_url": f"http://127.0.0.1:{fake_port}/response/{key}"})
    ts = str(int(time.time()))
    return body.encode(), {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
                           "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)}


async def send(http: aiohttp.ClientSession, url: str, fake_port: int, step: Step, slash: str, text: str) -> None:
    key = f"k{next(_ids)}"
    body, headers = signed(fake_port, slash, text, key)
    step.sent_at[key] = time.time()
    started = time.perf_counter()
    try:
        async with http.post(url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=10)) as response:
            await response.read()
            ok = response.status == 200
    except (aiohttp.ClientError, TimeoutError):
        ok = False
    if ok:
        step.acks.append((time.perf_counter() - started) * 1000)
    else:
        step.errors += 1
        step.sent_at.pop(key, None)


async def answered(http: aiohttp.ClientSession, fake_port: int) -> dict[str, float]:
    async with http.get(f"http://127.0.0.1:{fake_port}/answers") as response:
        return await response.json()


async def run_step(http: aiohttp.ClientSession, url: str, fake_port: int, rate: float, seconds: float, year: int,
                   cases: list[int], pids: dict[str, int]) -> Step:
    step = Step(rate)
    total = int(rate * seconds)
    tasks: set[asyncio.Task[None]] = set()
    begun = time.perf_counter()
    for i in range(total):
        delay = begun + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(tasks) >= MAX_IN_FLIGHT:
            step.errors += 1  # the server is not keeping up at all: count it, do not pile on
            continue
        slash, text = command(year, cases[0])
        if slash == "/concern":
            cases[0] += 1  # roughly: a later `case show` may ask for one not made yet (a refusal, also real work)
        task = asyncio.create_task(send(http, url, fake_port, step, slash, text))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        step.sent += 1
        if i % max(int(rate), 1) == 0:
            step.web_mb = max(step.web_mb, memory_mb(pids["web"]))
            step.worker_mb = max(step.worker_mb, memory_mb(pids["worker"]))
    if tasks:
        await asyncio.wait(tasks, timeout=15)
    step.seconds = time.perf_counter() - begun
    deadline = time.monotonic() + ANSWER_WAIT_S
    while True:
        got = await answered(http, fake_port)
        waiting = [k for k in step.sent_at if k not in got]
        step.web_mb = max(step.web_mb, memory_mb(pids["web"]))
        step.worker_mb = max(step.worker_mb, memory_mb(pids["worker"]))
        if not waiting or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    step.answers = [(got[k] - t) * 1000 for k, t in step.sent_at.items() if k in got]
    step.missing = len(step.sent_at) - len(step.answers)
    return step


def pct(samples: list[float], p: int) -> float:
    if len(samples) < 2:
        return samples[0] if samples else float("nan")
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1]


def row(step: Step) -> str:
    achieved = len(step.acks) / step.seconds if step.seconds else 0
    return (f"| {step.rate:g} | {achieved:.1f} | {pct(step.acks, 50):.0f} | {pct(step.acks, 99):.0f} | "
            f"{pct(step.answers, 50):.0f} | {pct(step.answers, 99):.0f} | {step.errors} | {step.missing} | "
            f"{step.web_mb[0]:.0f} / {step.web_mb[1]:.0f} | {step.worker_mb[0]:.0f} / {step.worker_mb[1]:.0f} |")


async def main(rates: list[float], seconds: float, database_url: str) -> None:
    year = datetime.now(ZoneInfo("Europe/Copenhagen")).year
    with tempfile.TemporaryDirectory() as tmp, pg_schema(database_url, "load") as url:
        migrate(url)
        workdir = Path(tmp)
        fake_port, web_port = free_port(), free_port()
        key = lambda: base64.b64encode(secrets.token_bytes(32)).decode()  # noqa: E731
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_"))}
        env.update({"PYTHONPATH": str(ROOT), "DATABASE_URL": url, "SLACK_BOT_TOKEN": "xoxb-load",
                    "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": f"http://127.0.0.1:{fake_port}/api/",
                    "PSEUDONYM_KEY": key(), "DATA_KEY": key(), "ADMIN_USERS": ",".join(USERS),
                    "UNIT_CHANNEL": "C0UNIT", "SECRETARIAT_CHANNEL": "C0SEC", "PORT": str(web_port),
                    "COMMAND_RATE": "1000000"})  # the per-user limit is not what is measured here
        procs = {"fake": start("fake", [sys.executable, str(Path(__file__).resolve()), "--serve-fake",
                                        str(fake_port)], env, workdir)}
        procs["web"] = start("web", [sys.executable, "-m", "bot", "serve"], env, workdir)
        procs["worker"] = start("worker", [sys.executable, "-m", "scheduler"], env, workdir)
        base = f"http://127.0.0.1:{web_port}"
        try:
            await wait_healthy(f"http://127.0.0.1:{fake_port}", procs["fake"], "/answers")
            await wait_healthy(base, procs["web"], "/readyz")
            pids = {"web": procs["web"].pid, "worker": procs["worker"].pid}
            connector = aiohttp.TCPConnector(limit=MAX_IN_FLIGHT)
            async with aiohttp.ClientSession(connector=connector) as http:
                seed = Step(0)
                for _n in range(SEED_CASES):
                    await send(http, base + "/slack/events", fake_port, seed, "/concern", CONCERN)
                cases = [SEED_CASES]
                deadline = time.monotonic() + ANSWER_WAIT_S  # the warm-up's answers, before anything is measured
                while len(await answered(http, fake_port)) < SEED_CASES and time.monotonic() < deadline:
                    await asyncio.sleep(0.2)
                idle = (memory_mb(pids["web"]), memory_mb(pids["worker"]))
                print(f"# idle after warm-up: web {idle[0][0]:.0f} MB RSS / {idle[0][1]:.0f} MB PSS, "
                      f"worker {idle[1][0]:.0f} / {idle[1][1]:.0f}")
                print("| offered /s | acked /s | ack p50 ms | ack p99 ms | answer p50 ms | answer p99 ms | errors "
                      "| answers missing | web MB RSS / PSS | worker MB RSS / PSS |")
                print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
                for rate in rates:
                    step = await run_step(http, base + "/slack/events", fake_port, rate, seconds, year, cases, pids)
                    print(row(step), flush=True)
                    if pct(step.acks, 99) > 3000 or step.errors > step.sent // 2:
                        print(f"# stopped: p99 ack above 3 s or most requests failing at {rate:g}/s")
                        break
        finally:
            for proc in procs.values():
                await stop(proc)
        for name in ("web", "worker"):
            tracebacks = (workdir / f"{name}.log").read_text(errors="replace").count("Traceback")
            if tracebacks:
                print(f"# {name}: {tracebacks} traceback(s) in its log")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="10,25,50,75,100", help="commands per second, one step each")
    parser.add_argument("--step-seconds", type=float, default=120.0)
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL",
                                                                "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--serve-fake", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    if args.serve_fake:
        serve_fake(args.serve_fake)
    else:
        random.seed(args.seed)
        asyncio.run(main([float(r) for r in args.rates.split(",")], args.step_seconds, args.database_url))
