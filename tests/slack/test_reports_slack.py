"""Reports through Slack over real HTTP: `/report kpi` answers privately with exact figures; `/report annual`
uploads the files (files.getUploadURLExternal → upload → files.completeUploadExternal) into the asker's DM."""

from __future__ import annotations

import io
import json
import re
from typing import Any

from fake_slack import FakeSlack
from pypdf import PdfReader
from slack_http import AppServer, wait_until
from test_slash_commands import CONCERN, all_text, reply_to


async def test_report_kpi_answers_privately_with_exact_figures(server: AppServer, fake_slack: FakeSlack) -> None:
    for n in range(3):
        await server.slash("/concern", CONCERN, response_key=f"c{n}")
        await reply_to(fake_slack, f"c{n}")
    await server.slash("/report", "kpi year=2026", response_key="kpi")
    body = await reply_to(fake_slack, "kpi")
    text = all_text(body)
    assert body.get("response_type", "ephemeral") == "ephemeral"
    assert "Concerns received: 3" in text and "Exact figures, for the secretariat only" in text


async def test_report_annual_pdf_is_uploaded_to_the_askers_dm(server: AppServer, fake_slack: FakeSlack) -> None:
    await server.slash("/concern", CONCERN, response_key="c")
    await reply_to(fake_slack, "c")
    await server.slash("/report", "annual year=2026 format=pdf", response_key="annual")
    answer = await reply_to(fake_slack, "annual")
    assert "annual report for 2026 (pdf)" in all_text(answer)

    def shared() -> list[dict[str, Any]]:
        return [c.data for c in fake_slack.calls_to("files.completeUploadExternal")]

    [share] = await wait_until(shared, what="the report shared")
    files = share["files"] if isinstance(share["files"], list) else json.loads(share["files"])
    assert [f.get("title") for f in files] == ["annual-report-2026.pdf"]
    assert share["channel_id"].startswith("D")  # the asker's DM, never a channel
    assert fake_slack.calls_to("files.getUploadURLExternal")
    [pdf] = [u for u in fake_slack.uploads.values() if u.startswith(b"%PDF")]
    reader = PdfReader(io.BytesIO(pdf))
    assert len([i for p in reader.pages for i in p.images]) == 3
    assert "KE-2026" not in "".join(p.extract_text() for p in reader.pages)


async def test_report_annual_markdown_comes_with_its_charts(server: AppServer, fake_slack: FakeSlack) -> None:
    await server.slash("/report", "annual year=2026", response_key="annual")
    await reply_to(fake_slack, "annual")
    [share] = await wait_until(lambda: fake_slack.calls_to("files.completeUploadExternal"), what="share")
    files = share.data["files"] if isinstance(share.data["files"], list) else json.loads(share.data["files"])
    titles = sorted(re.sub(r"-[0-9a-f]{8}\.png$", ".png", f.get("title")) for f in files)  # a chart's digest
    assert titles == ["annual-report-2026-cases-by-track.png", "annual-report-2026-concerns-per-month.png",
                      "annual-report-2026-targets.png", "annual-report-2026.md"]
