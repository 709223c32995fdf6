"""The shared template environment, its filters, and Block Kit built within Slack's limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from jinja2 import UndefinedError
from slack_sdk.models.blocks import Block

from bot.answers.blocks import MAX_BLOCKS, VIEW_BLOCKS, build_message, text_blocks
from bot.answers.mrkdwn import echo, escape, unescape
from bot.answers.render import (
    ENVIRONMENT,
    as_of,
    date,
    downloads,
    human,
    local_time,
    percent,
    plural,
    points,
    render,
    render_message,
    thousands,
)
from bot.store.reader import Snapshot


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0"),
        (999, "999"),
        (1000, "1K"),
        (12_345, "12.3K"),
        (99_960, "100K"),
        (123_456, "123K"),
        (999_950, "1M"),
        (1_234_567, "1.2M"),
        (2_200_000_000, "2.2B"),
        (None, "n/a"),
    ],
)
def test_human_counts_read_like_a_person_wrote_them(value, expected):
    assert human(value) == expected


def test_shares_and_changes():
    assert percent(0.171) == "17.1%"
    assert percent(0.0) == "0%"
    assert percent(0.0001) == "<0.1%"
    assert percent(1.0) == "100.0%"
    assert points(0.006) == "+0.6 pp"
    assert points(-0.0123) == "-1.2 pp"
    assert points(0.0001) == "±0.0 pp"
    assert points(None) == "n/a"
    assert thousands(151_448) == "151,448"


def test_dates():
    when = datetime(2026, 1, 5, 14, 3, tzinfo=UTC)
    assert date(when) == "5 Jan 2026"
    assert date(when, with_time=True) == "5 Jan 2026 14:03 UTC"
    assert local_time(when, "Europe/Berlin") == "Monday 5 Jan 2026 15:03 (Europe/Berlin)"


def test_plurals_follow_the_count():
    assert plural("model", 1) == "model"
    assert [plural("model", n) for n in (0, 2, 1.5, None)] == ["models"] * 4
    assert plural("delivery", 1, "deliveries") == "delivery"
    assert plural("delivery", 3, "deliveries") == "deliveries"
    assert downloads(1) == "1 download"
    assert downloads(12_345) == "12.3K downloads"
    template = ENVIRONMENT.from_string('{{ "repo"|plural(n) }}, {{ "it"|plural(n, "them") }}')
    assert template.render(n=1) == "repo, it"
    assert template.render(n=4) == "repos, them"


def test_mrkdwn_escapes_only_ampersand_and_angle_brackets():
    assert escape("<!channel> & <@U123> \"q\" 'a' *b*") == (
        "&lt;!channel&gt; &amp; &lt;@U123&gt; \"q\" 'a' *b*"
    )
    # & first: an existing entity is escaped again, not left to be interpreted.
    assert escape("&lt;") == "&amp;lt;"
    for text in ("<!channel> & <@U123>", "&lt; &amp;lt;", "plain"):
        assert unescape(escape(text)) == text


def test_echo_quotes_one_line_without_code_breakers_or_bidi_overrides():
    assert echo("a`b\n::header x") == "`a'b ::header x`"
    assert echo("abc\u202edef") == "`abcdef`"
    long = echo("x" * 10_000)
    assert len(long) <= 82
    assert long.endswith("…`")


def test_every_printed_value_is_escaped_even_without_the_filter():
    template = ENVIRONMENT.from_string("{{ raw }} {{ raw|mrkdwn }} {{ share|pct }}")
    assert template.render(raw="<!here>", share=0.5) == "&lt;!here&gt; &lt;!here&gt; 50.0%"


def test_templates_come_from_the_templates_package_and_undefined_is_an_error():
    with pytest.raises(UndefinedError):
        render("help.j2")


def _snapshot(taken_at: datetime, source: str = "hub https://huggingface.co") -> Snapshot:
    return Snapshot(1, taken_at, source, "complete", 100, 10, 10, 1000, "")


def test_as_of_warns_after_two_days_and_flags_the_demo():
    taken = datetime(2026, 3, 2, tzinfo=UTC)
    assert as_of(_snapshot(taken), taken + timedelta(days=1))["stale"] is False
    old = as_of(_snapshot(taken), taken + timedelta(days=3, hours=1))
    assert old["stale"] is True
    assert old["age_days"] == 3
    assert old["illustrative"] is False
    assert as_of(_snapshot(taken, "demo (illustrative)"), taken)["illustrative"] is True


def test_layout_becomes_validated_blocks_and_a_text_fallback():
    message = build_message(
        "::header Title\n::section\nline *one*\nline two\n::field\n*A*\n1\n::field\n*B*\n2\n"
        "::divider\n::context\nfoot one\nfoot two\n"
    )
    types = [block["type"] for block in message.blocks]
    assert types == ["header", "section", "section", "divider", "context"]
    assert message.blocks[0]["text"] == {"type": "plain_text", "text": "Title"}
    assert message.blocks[2]["fields"][1]["text"] == "*B*\n2"
    assert len(message.blocks[4]["elements"]) == 2
    assert message.text.startswith("*Title*\nline *one*\nline two\n*A*\n1")
    for block in message.blocks:
        Block.parse(block).validate_json()


def test_text_before_any_directive_is_a_section_and_empty_parts_vanish():
    message = build_message("hello\n::section\n\n   \n::context\n")
    assert message.blocks == [{"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}]


def test_unknown_directives_are_template_bugs():
    with pytest.raises(ValueError, match="::table"):
        build_message("::table\nx")


def test_oversized_parts_are_split_or_trimmed_never_refused():
    header = "H" * 400
    section = "\n".join(f"line {i} " + "x" * 90 for i in range(100))  # about 10,000 chars
    fields = "".join(f"::field\nf{i}\n" for i in range(23))
    context = "::context\n" + "\n".join(f"c{i}" for i in range(15))
    message = build_message(f"::header {header}\n::section\n{section}\n{fields}{context}\n")
    header_block, *rest = message.blocks
    assert len(header_block["text"]["text"]) == 150
    sections = [b for b in rest if b["type"] == "section" and "text" in b]
    assert len(sections) == 4
    assert all(len(b["text"]["text"]) <= 3000 for b in sections)
    assert "\n".join(b["text"]["text"] for b in sections) == section
    field_blocks = [b for b in rest if "fields" in b]
    assert [len(b["fields"]) for b in field_blocks] == [10, 10, 3]
    elements = rest[-1]["elements"]
    assert len(elements) == 10
    assert elements[-1]["text"] == "…and 6 more"


def test_a_single_huge_line_is_clipped():
    message = build_message("::section\n" + "y" * 5000)
    assert len(message.blocks[0]["text"]["text"]) == 3000
    assert message.blocks[0]["text"]["text"].endswith("…")


def test_more_than_fifty_blocks_end_with_an_and_n_more_line():
    layout = "".join(f"::section\nitem {i}\nsecond line\n" for i in range(80))
    message = build_message(layout)
    assert len(message.blocks) == MAX_BLOCKS
    last = message.blocks[-1]
    assert last["type"] == "context"
    # 31 sections of two lines each were dropped.
    assert last["elements"][0]["text"] == "…and 62 more lines not shown"
    assert message.text.endswith("…and 62 more lines not shown")


def test_the_app_home_may_hold_a_hundred_blocks():
    layout = "".join(f"::section\nitem {i}\n" for i in range(150))
    message = build_message(layout, VIEW_BLOCKS)
    assert len(message.blocks) == VIEW_BLOCKS
    assert message.blocks[-1]["elements"][0]["text"] == "…and 51 more lines not shown"


def test_plain_text_becomes_sections_cut_at_line_ends():
    text = "\n".join(f"line {i} " + "x" * 90 for i in range(100))
    blocks = text_blocks(text)
    assert len(blocks) == 4
    assert "\n".join(b["text"]["text"] for b in blocks) == text
    assert text_blocks("  \n") == []


def test_the_as_of_partial_names_the_snapshot_and_warns_when_stale():
    taken = datetime(2026, 3, 2, tzinfo=UTC)
    fresh = render_message("_as_of.j2", as_of=as_of(_snapshot(taken), taken + timedelta(hours=5)))
    assert fresh.text == "Hub data as of 2 Mar 2026 00:00 UTC"
    stale = render_message("_as_of.j2", as_of=as_of(_snapshot(taken), taken + timedelta(days=4)))
    assert "4 days old (older than two days)" in stale.text
    demo = render_message("_as_of.j2", as_of=as_of(_snapshot(taken, "demo (x)"), taken))
    assert "illustrative demo data" in demo.text
