"""Demo data says it is illustrative everywhere it goes: the weekly digest (text and chart),
alerts, crossover alerts and every chart, the label drawn in the image itself."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine

from bot.answers.charts import (
    ILLUSTRATIVE,
    Column,
    Node,
    Series,
    lineage_figure,
    share_figure,
)
from bot.channels import alerts, crossover_alerts, digest
from bot.channels.channel import Channel
from bot.channels.crossover_news import CrossoverNews
from bot.core.clock import FrozenClock
from bot.core.registry import load_registry
from bot.ingest.demo import DEMO_SOURCE, load_demo
from bot.model.crossovers import COUNTRIES, Crossover, Side
from bot.store.engine import make_engine, upgrade
from bot.store.reader import Reader
from commands import lineage
from commands.base import Context
from commands.dispatch import dispatch

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LABEL = "*illustrative demo data*: real names, invented figures"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}")
    upgrade(engine)
    load_demo(engine, clock=FrozenClock(NOW))
    yield engine
    engine.dispose()


def _reader(engine: Engine) -> Reader:
    return Reader(engine, clock=FrozenClock(NOW))


def test_the_digest_text_and_chart_say_demo_data_is_illustrative(demo: Engine) -> None:
    reader = _reader(demo)
    latest = reader.latest()
    content = digest.build(reader, latest, reader.week_before(latest))
    assert LABEL in digest.payload(content)["text"]
    assert LABEL in digest.no_news_payload(latest)["text"]
    chart = digest.chart(reader, latest.id)
    assert chart is not None
    assert chart.alt_text.startswith(ILLUSTRATIVE)


def test_a_real_snapshot_is_not_labelled(demo: Engine) -> None:
    real = replace(_reader(demo).latest(), source="hub")
    assert "illustrative" not in digest.no_news_payload(real)["text"]
    body = alerts.payload(alerts.ChannelAlert(Channel("T1", "C1")), real, load_registry())
    assert "illustrative" not in body["text"]


def test_alerts_say_demo_data_is_illustrative(demo: Engine) -> None:
    latest = _reader(demo).latest()
    body = alerts.payload(alerts.ChannelAlert(Channel("T1", "C1")), latest, load_registry())
    assert LABEL in body["text"]


def test_crossover_alerts_from_the_demo_history_say_so() -> None:
    crossover = Crossover(
        kind=COUNTRIES,
        event="passed",
        week=date(2026, 2, 23),
        previous_week=date(2026, 2, 16),
        source=DEMO_SOURCE,
        attribution="publisher",
        measure="downloads",
        side=Side("CN", 0.39, 0.41),
        other=Side("US", 0.40, 0.38),
    )
    news = CrossoverNews(crossover, "China", "the United States", NOW)
    assert LABEL in crossover_alerts.payload(news)["text"]
    real = CrossoverNews(
        replace(crossover, source="hfmlsoc/hub_weekly_snapshots"), "China", None, NOW
    )
    assert "illustrative" not in crossover_alerts.payload(real)["text"]


def test_the_lineage_chart_of_demo_data_says_so(demo: Engine) -> None:
    context = Context(_reader(demo), demo, want_chart=True)
    answer = lineage.COMMAND.run("Qwen/Qwen2.5-7B-Instruct", context)
    assert answer.chart is not None
    assert answer.chart.alt_text.startswith(ILLUSTRATIVE)


@pytest.mark.parametrize("text", ["/share", "/share qwen", "/share cn"])
def test_share_charts_of_demo_data_say_so(demo: Engine, text: str) -> None:
    answer = dispatch(text, Context(_reader(demo), demo, want_chart=True))
    assert answer.chart is not None
    assert answer.chart.alt_text.startswith(ILLUSTRATIVE)


def _texts(figure) -> list[str]:
    texts = [*figure.texts, *(text for axes in figure.axes for text in axes.texts)]
    return [text.get_text() for text in texts]


def test_the_label_is_drawn_in_the_image() -> None:
    points = [(datetime(2025, 1, d, tzinfo=UTC), 0.1 * d) for d in (6, 13, 20, 27)]
    series = [Series("China", points)]
    assert ILLUSTRATIVE in _texts(share_figure("t", series, illustrative=True))
    assert ILLUSTRATIVE not in _texts(share_figure("t", series, illustrative=False))
    chain = [Column([Node("a/root", "A", "US"), Node("b/child", "B", "CN", "finetune")])]
    assert ILLUSTRATIVE in _texts(lineage_figure("t", chain, illustrative=True))
    assert ILLUSTRATIVE not in _texts(lineage_figure("t", chain, illustrative=False))
