"""Two `townqa bot` replicas in webhook mode behind nginx (deploy/nginx-townqa.conf), sharing PostgreSQL.

The emulator delivers every update to the proxy's webhook URL with the secret token header, as Telegram does;
nginx round-robins between the replicas and passes a refused call to the other one. The test checks what
users and the maintainer would see: a follow-up answered by the other replica knows the first one's topic,
the rate limit counts a user's questions on both, an admin's /reload on one reaches the other, an update
delivered twice is answered once, a rolling restart (SIGTERM, start again) loses no question, and after one
replica is killed outright the other keeps answering; every answered question is logged exactly once.
Skipped, saying how to install them, where PostgreSQL or nginx is missing.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest
import pytest_asyncio

from .botharness import copied_seeds
from .conftest import ROOT
from .emulator import Emulator, EmulatorError
from .postgres import free_port
from .proxy import Nginx
from .test_admin_e2e import press, upload_preview

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

TOKEN = "777777:REPLICA-TEST-TOKEN-abcdefghijklmnop"
SECRET = "replica-test-secret"
ADMIN = 9001
PER_MINUTE = 5
QUESTIONS = [  # (question, what its answer quotes)
    ("后白镇2025年地区生产总值是多少", "66.11亿元"),
    ("下蜀镇全年空气质量优良天数是多少", "315天"),
]


@dataclass
class Replica:
    name: str
    port: int
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen | None = None
    runs: list[Path] = field(default_factory=list)

    def start(self) -> None:
        log = self.log.with_suffix(f".{len(self.runs)}.log")
        self.runs.append(log)
        with log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "bot"], cwd=ROOT, env={**os.environ, **self.env},
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, text=True,
            )

    async def ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"replica {self.name} exited:\n{self.output()[-3000:]}"
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            await asyncio.sleep(0.1)
        raise AssertionError(f"replica {self.name} did not listen:\n{self.output()[-3000:]}")

    def output(self) -> str:
        return "".join(run.read_text(errors="replace") for run in self.runs if run.exists())

    def answered_ids(self) -> set[int]:
        """The query ids this replica logged answering (its `"event": "question"` lines)."""
        ids = set()
        for line in self.output().splitlines():
            if '"event": "question"' in line:
                ids.add(json.loads(line[line.index("{"):])["query_id"])
        return ids

    async def stop(self, sig: int = signal.SIGTERM) -> int:
        self.proc.send_signal(sig)
        return await asyncio.to_thread(self.proc.wait, 30)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@dataclass
class Cluster:
    emu: Emulator
    url: str
    proxy: Nginx
    replicas: list[Replica]
    seeds: Path

    def log_rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.url) as conn:
            return conn.execute(sql, params).fetchall()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(postgres, tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("replicas")
    url = postgres.new_database()
    ports = (free_port(), free_port())
    proxy = Nginx(free_port(), ports).start()
    seeds = copied_seeds(tmp)  # the corpus folder both replicas read
    async with Emulator(token=TOKEN) as emu:
        replicas = []
        for name, port in zip("AB", ports):
            env = {
                "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": emu.base_url,
                "TOWNQA_WEBHOOK_URL": f"http://127.0.0.1:{proxy.listen}/townqa-hook",
                "TOWNQA_WEBHOOK_LISTEN": "127.0.0.1", "TOWNQA_WEBHOOK_PORT": str(port), "TOWNQA_WEBHOOK_SECRET": SECRET,
                "TOWNQA_DB": url, "TOWNQA_CACHE_DIR": str(tmp / f"cache-{name}"), "TOWNQA_SEEDS": str(seeds),
                "TOWNQA_RATE_LIMIT_PER_MINUTE": str(PER_MINUTE), "TOWNQA_ADMIN_IDS": str(ADMIN),
                "TOWNQA_LOG_USER_IDS": "true",
            }
            replicas.append(Replica(name, port, env, tmp / f"replica-{name}"))
        for replica in replicas:
            replica.start()
        try:
            await asyncio.gather(*(r.ready() for r in replicas))
            yield Cluster(emu, url, proxy, replicas, seeds)
        finally:
            for replica in replicas:
                replica.kill()
            proxy.stop()


async def ask(emu: Emulator, user: int, text: str, timeout: float = 20) -> str | None:
    """The reply's text, or None when none came within `timeout` seconds."""
    await emu.send_message(user, text)
    try:
        (reply,) = await emu.wait_for_messages(user, timeout=timeout)
    except AssertionError:
        return None
    return reply["message"]["text"]


def who_answered(cluster: Cluster, query_id: int) -> str:
    (name,) = [r.name for r in cluster.replicas if query_id in r.answered_ids()]
    return name


def last_query_id(cluster: Cluster, user: int) -> int:
    return cluster.log_rows('SELECT max(id) FROM queries WHERE "user" = %s', (str(user),))[0][0]


async def test_a_follow_up_on_the_other_replica_knows_the_topic(cluster: Cluster):
    first = await ask(cluster.emu, 31, "后白镇一般公共预算收入是多少？")
    assert "📍 <b>后白镇</b>" in first
    first_by = who_answered(cluster, last_query_id(cluster, 31))
    follow = await ask(cluster.emu, 31, "那下蜀镇呢")
    assert "接着上一个问题：下蜀镇一般公共预算收入是多少" in follow and "📍 <b>下蜀镇</b>" in follow
    assert who_answered(cluster, last_query_id(cluster, 31)) != first_by, "nginx sent both to one replica"


async def test_the_rate_limit_counts_a_users_questions_on_both_replicas(cluster: Cluster):
    replies = [await ask(cluster.emu, 41, f"{QUESTIONS[0][0]}（第{n}问）") for n in range(PER_MINUTE + 1)]
    assert all(QUESTIONS[0][1] in r for r in replies[:PER_MINUTE]), replies
    assert "提问太频繁" in replies[PER_MINUTE]  # each replica saw only about half of them
    assert {who_answered(cluster, q) for (q,) in cluster.log_rows('SELECT id FROM queries WHERE "user" = %s', ("41",))} == {"A", "B"}
    assert "⏳" not in (await ask(cluster.emu, 42, QUESTIONS[0][0])), "another user is not limited"


async def test_an_update_delivered_to_both_replicas_is_answered_once(cluster: Cluster):
    update = {
        "update_id": 900_000_001,
        "message": {
            "message_id": 900_000_001, "date": int(time.time()), "text": QUESTIONS[1][0],
            "from": Emulator.user(51), "chat": Emulator.chat(Emulator.user(51)),
        },
    }
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with httpx.AsyncClient(trust_env=False) as http:
        for replica in cluster.replicas:  # as a retry after a cut-off call would
            response = await http.post(f"http://127.0.0.1:{replica.port}/townqa-hook", json=update, headers=headers)
            assert response.status_code == 200
        forged = await http.post(f"http://127.0.0.1:{cluster.proxy.listen}/townqa-hook", json=update)
        assert forged.status_code == 403  # without Telegram's secret the proxy's replica refuses it
    (reply,) = await cluster.emu.wait_for_messages(51, timeout=20)
    assert QUESTIONS[1][1] in reply["message"]["text"]
    await cluster.emu.expect_no_messages(51, within=1.0)
    assert cluster.log_rows('SELECT count(*) FROM queries WHERE "user" = %s', ("51",)) == [(1,)]


async def test_an_admins_reload_on_one_replica_reaches_the_other(cluster: Cluster):
    question = "宝华镇新建了多少座智慧农业大棚？"
    assert "没有找到" in await ask(cluster.emu, 61, question)
    (cluster.seeds / "005_baohua.txt").write_text("宝华镇全镇新建智慧农业大棚120座，带动农户增收。", encoding="utf-8")
    with (cluster.seeds / "manifest.toml").open("a", encoding="utf-8") as manifest:
        manifest.write('\n[[report]]\nfile = "005_baohua.txt"\ntown = "宝华镇"\ntitle = "宝华镇2025年工作总结"\n')
    await cluster.emu.send_command(ADMIN, "/reload")
    replies = await cluster.emu.wait_for_messages(ADMIN, count=2, timeout=60)
    assert "已重新加载：6 份报告" in replies[1]["message"]["text"], replies
    for _ in range(100):  # the other replica reloads on the notice, in the background
        if all("corpus reloaded: 6 reports" in r.output() for r in cluster.replicas):
            break
        await asyncio.sleep(0.2)
    answers = [await ask(cluster.emu, 62 + n, question) for n in range(2)]  # one on each replica
    assert all("120" in a for a in answers), answers
    assert {who_answered(cluster, last_query_id(cluster, 62 + n)) for n in range(2)} == {"A", "B"}


async def test_an_upload_previewed_on_one_replica_is_added_by_a_press_on_the_other(cluster: Cluster):
    text = "后桥镇2025年工作总结。全年新建口袋公园9个，改造农贸市场2处。".encode()
    preview = await upload_preview(cluster.emu, ADMIN, "007_houqiao.txt", text, "town=后桥镇 title=后桥镇2025年工作总结")
    assert "镇/街道：后桥镇" in preview["message"]["text"]
    (previewed_by,) = [r.name for r in cluster.replicas if "upload previewed by" in r.output()]
    replies = await press(cluster.emu, ADMIN, preview, "✅ 加入")
    assert "新增：007_houqiao.txt" in replies[0]
    (confirmed_by,) = [r.name for r in cluster.replicas if "add confirmed by" in r.output()]
    assert confirmed_by != previewed_by, "nginx sent the upload and the press to one replica"
    for _ in range(100):
        if all("corpus reloaded: 7 reports" in r.output() for r in cluster.replicas):
            break
        await asyncio.sleep(0.2)
    answers = [await ask(cluster.emu, 71 + n, "后桥新建了几个口袋公园？") for n in range(2)]  # one on each replica
    assert all("口袋公园</b>9个" in a for a in answers), answers


async def traffic(
    cluster: Cluster, users: range, event: asyncio.Event, after: int, sent: dict[str, float] | None = None
) -> dict[str, str | None]:
    """Every user asks PER_MINUTE questions one after another; `event` is set once `after` replies came.
    sent: filled with when each question was sent (time.monotonic)."""
    answers: dict[str, str | None] = {}
    sent = {} if sent is None else sent

    async def user(uid: int) -> None:
        for n in range(PER_MINUTE):
            question, expected = QUESTIONS[(uid + n) % len(QUESTIONS)]
            text = f"{question}（{uid}-{n}）"
            sent[text] = time.monotonic()
            try:
                reply = await ask(cluster.emu, uid, text, timeout=10)
            except EmulatorError as exc:  # the delivery itself failed: nginx found no replica
                reply = f"DELIVERY FAILED {exc}"
            answers[text] = reply
            if reply is not None and not reply.startswith("DELIVERY"):
                assert expected in reply, (text, reply)
            if sum(a is not None for a in answers.values()) >= after:
                event.set()

    await asyncio.gather(*(user(u) for u in users))
    return answers


def logged(cluster: Cluster, texts: list[str]) -> dict[str, int]:
    rows = cluster.log_rows("SELECT question, count(*) FROM queries WHERE question = ANY(%s) GROUP BY question", (texts,))
    return dict(rows)


async def test_a_rolling_restart_loses_no_question(cluster: Cluster):
    a = cluster.replicas[0]
    halfway = asyncio.Event()
    met_a = f'upstream: "http://127.0.0.1:{a.port}/'  # an nginx error line about A: refused, or reset while it stopped
    failures_before = cluster.proxy.error_log().count(met_a)
    load = asyncio.create_task(traffic(cluster, range(1000, 1012), halfway, after=12))
    await asyncio.wait_for(halfway.wait(), 60)
    assert await a.stop(signal.SIGTERM) == 0, a.output()[-3000:]  # PTB stops cleanly, finishing what it took
    # Questions while A is down, whether or not the load is still running: of any two in a row nginx sends one
    # to A (round robin), meets the refusal and passes it on to B (unless nginx already set A aside when its
    # connection was reset as it stopped).
    probes = {}
    for n in range(2):
        question, expected = QUESTIONS[n]
        text = f"{question}（1099-{n}）"
        probes[text] = await ask(cluster.emu, 1099, text, timeout=10)
        assert probes[text] is not None and expected in probes[text], (text, probes[text])
    a.start()
    await a.ready()
    answers = {**await load, **probes}
    # nginx did meet the stopped replica, and passed those calls on to the other one.
    assert cluster.proxy.error_log().count(met_a) > failures_before, cluster.proxy.error_log()[-2500:]
    failed = {text: reply for text, reply in answers.items() if reply is None or reply.startswith("DELIVERY")}
    assert not failed, (failed, a.output()[-3000:])
    assert logged(cluster, list(answers)) == {text: 1 for text in answers}
    assert " ERROR " not in a.output()


async def test_with_one_replica_killed_the_other_answers_and_nothing_is_logged_twice(cluster: Cluster):
    a, b = cluster.replicas
    started = asyncio.Event()
    users = range(2000, 2008)
    answered_before = len(a.answered_ids())
    sent: dict[str, float] = {}
    load = asyncio.create_task(traffic(cluster, users, started, after=8, sent=sent))
    await asyncio.wait_for(started.wait(), 60)
    for _ in range(150):  # nginx takes a replica back fail_timeout after it failed: A must be serving again
        if len(a.answered_ids()) > answered_before:
            break
        await asyncio.sleep(0.05)
    b.kill()  # SIGKILL: a question it had taken and not answered is lost (Telegram had its 200)
    killed = time.monotonic()
    answers = await load
    failed = {text: reply for text, reply in answers.items() if reply and reply.startswith("DELIVERY")}
    assert not failed, (failed, cluster.proxy.error_log()[-3000:])
    lost = [text for text, reply in answers.items() if reply is None]
    assert len(lost) <= len(users), lost  # at most the one question each user had in flight
    after_kill = [text for text in answers if sent[text] > killed]
    assert all(answers[text] is not None for text in after_kill), [t for t in after_kill if answers[t] is None]
    counts = logged(cluster, list(answers))
    assert all(counts.get(text) == 1 for text, reply in answers.items() if reply is not None), counts
    assert all(counts.get(text, 0) <= 1 for text in lost), counts
    # As many new users ask at once, B still dead: A answers them all (however late in the load the kill came).
    fresh = range(2010, 2010 + len(users))
    again = await asyncio.gather(*(ask(cluster.emu, uid, QUESTIONS[0][0]) for uid in fresh))
    assert all(reply is not None and QUESTIONS[0][1] in reply for reply in again), again
    assert {who_answered(cluster, last_query_id(cluster, uid)) for uid in fresh} == {"A"}
    b.start()  # and it comes back
    await b.ready()
    assert QUESTIONS[0][1] in await ask(cluster.emu, 2100, QUESTIONS[0][0])
