"""``hubpulse orgs list | import | unknown`` as an operator runs them: the real CLI, a real
database, files on disk and a loopback HTTP server for URLs, the fake Hub for the refresh that
puts an import to use."""

from __future__ import annotations

import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine

from bot.cli import main
from bot.core.clock import FrozenClock
from bot.core.registry import Registry, load_registry
from bot.ingest import hub
from bot.ingest.org_source import MAX_BYTES
from bot.ingest.refresh import refresh
from bot.model.aggregates import COUNTRY, PUBLISHER
from bot.store.orgs import imported_orgs, with_imports
from bot.store.reader import Reader
from tests.cli_checks import one_line_error
from tests.fakes.hub import FakeHub, make_record
from tests.test_registry_share import TAKEN, TOTAL, store_world

STABILITY_SOURCE = load_registry().get("stabilityai").source
ATOM = (
    "hf_org,region,notes\n"
    "Qwen,china,Alibaba\n"
    "stabilityai,eu,\n"
    "randomuser,us,a US lab\n"
    "a-collective,unknown,distributed\n"
)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> str:
    monkeypatch.setenv("HUBPULSE_DATABASE_URL", sqlite_url)
    monkeypatch.delenv("HUBPULSE_ORGS_FILE", raising=False)
    return sqlite_url


@pytest.fixture
def store(env: str, sqlite_engine: Engine) -> Engine:
    """The migrated store ``env`` points the CLI at."""
    return sqlite_engine


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["orgs", *args], prog_name="hubpulse")


class Serve:
    """A loopback HTTP server (port 0) answering every GET with one body and status."""

    def __init__(self, body: bytes, status: int = 200) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(outer.status)
                self.send_header("Content-Type", "text/csv; charset=utf-8")
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, *_: object) -> None:
                return

        self.body, self.status = body, status
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/registry.csv"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Serve:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_list_prints_one_org_a_line_with_its_fields(env):
    result = run("list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == len(load_registry())
    by_id = {line.split("\t")[0]: line.split("\t") for line in lines}
    assert by_id["Qwen"][:4] == ["Qwen", "CN", "china", "Alibaba Qwen"]
    assert "通义千问" in by_id["Qwen"][4].split("|")
    assert by_id["mistralai"][1:3] == ["FR", "eu"]


def test_import_shows_the_changes_then_stores_them_with_apply(store, tmp_path):
    atom = tmp_path / "atom.csv"
    atom.write_text(ATOM, encoding="utf-8")
    shown = run("import", str(atom))
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.splitlines() == [
        "+ randomuser\tUS\tus\trandomuser\t",
        "+ a-collective\tXU\tunknown\ta-collective\t",
        "~ stabilityai: country GB -> EU (region other -> eu); source "
        f"{STABILITY_SOURCE!r} -> '{STABILITY_SOURCE}; region eu from atom.csv (ATOM registry)'",
        "2 added, 1 changed, 1 unchanged.",
        "Nothing stored: run again with --apply to store these changes.",
    ]
    assert imported_orgs(store) == []
    applied = run("import", str(atom), "--apply")
    assert applied.exit_code == 0, applied.output
    assert "Stored 3 orgs" in applied.stdout
    assert {org.org for org in imported_orgs(store)} == {
        "randomuser",
        "a-collective",
        "stabilityai",
    }
    again = run("import", str(atom))
    assert again.stdout.splitlines() == ["0 added, 0 changed, 4 unchanged."]
    listed = run("list").stdout
    assert "randomuser\tUS\tus\trandomuser\t\n" in listed
    assert "stabilityai\tEU\teu\tStability AI\t" in listed


def test_our_own_format_is_read_too(store, tmp_path):
    ours = tmp_path / "ours.csv"
    ours.write_text(
        "org,country,display_name,aliases,source\n"
        'newlab,JP,New Lab,新しい|newlab ai,"https://huggingface.co/newlab (New Lab, Tokyo)"\n',
        encoding="utf-8",
    )
    assert run("import", str(ours), "--apply").exit_code == 0
    registry = with_imports(store, load_registry())
    assert registry.get("newlab").aliases == ("新しい", "newlab ai")
    assert registry.aliases["新しい"] == ("newlab",)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "hf_org,region,notes\nQwen,china,\nbad org,us,\n",
            "bad.csv line 3: 'bad org' is not a Hub",
        ),
        ("hf_org,region,notes\nQwen,asia,\n", "bad.csv line 2: region 'asia' is not one of"),
        ("name,where\nQwen,CN\n", "bad.csv line 1: the header must be"),
    ],
)
def test_a_malformed_file_is_one_line_naming_the_row_and_stores_nothing(
    store, tmp_path, body, message
):
    bad = tmp_path / "bad.csv"
    bad.write_text(body, encoding="utf-8")
    line = one_line_error(run("import", str(bad), "--apply"))
    assert line.startswith(f"hubpulse: {message}")
    assert imported_orgs(store) == []


def test_a_missing_file_is_one_line(env, tmp_path):
    line = one_line_error(run("import", str(tmp_path / "nowhere.csv")))
    assert "nowhere.csv: cannot be read" in line


def test_a_url_is_fetched(store):
    with Serve(ATOM.encode()) as server:
        result = run("import", server.url, "--apply")
    assert result.exit_code == 0, result.output
    assert "2 added, 1 changed, 1 unchanged." in result.stdout
    assert len(imported_orgs(store)) == 3


def test_a_url_that_fails_or_is_too_large_is_one_line(store):
    with Serve(b"Not Found", status=404) as server:
        assert "answered 404" in one_line_error(run("import", server.url))
    with Serve(b"hf_org,region,notes\n" + b"x" * MAX_BYTES) as server:
        assert "larger than 4 MiB" in one_line_error(run("import", server.url))
    assert imported_orgs(store) == []


def test_the_setting_layers_a_file_at_start(env, tmp_path, monkeypatch):
    atom = tmp_path / "start.csv"
    atom.write_text(ATOM, encoding="utf-8")
    monkeypatch.setenv("HUBPULSE_ORGS_FILE", str(atom))
    assert "a-collective\tXU\tunknown" in run("list").stdout
    broken = tmp_path / "broken.csv"
    broken.write_text("hf_org,region,notes\nQwen\n", encoding="utf-8")
    monkeypatch.setenv("HUBPULSE_ORGS_FILE", str(broken))
    line = one_line_error(run("list"))
    assert line == "hubpulse: HUBPULSE_ORGS_FILE: broken.csv line 2: 1 fields, expected 3"


def test_unknown_lists_unregistered_authors_by_share(store):
    store_world(store)
    result = run("unknown", "--top", "1")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Unregistered authors hold {2700 / TOTAL:.1%} of the top 13")
    assert len(lines) == 2
    assert lines[1].split() == [f"{2500 / TOTAL:.2%}", "2,500", "1", "model", "randomuser"]


def test_an_applied_import_is_used_by_the_next_refresh(store, tmp_path):
    records = [
        make_record("Qwen/Qwen3-8B", downloads=6000),
        make_record("randomuser/big-model", downloads=3000),
        make_record("meta-llama/Llama-3.1-8B", downloads=1000),
    ]
    registry = Registry.from_orgs(o for o in load_registry() if o.org in ("Qwen", "meta-llama"))
    clock = FrozenClock(TAKEN)
    with FakeHub(records) as fake:
        api = hub.connect(fake.url, None)
        first = refresh(store, api, registry, 10, clock=clock).result.snapshot_id
        atom = tmp_path / "atom.csv"
        atom.write_text(ATOM, encoding="utf-8")
        assert run("import", str(atom), "--apply").exit_code == 0
        second = refresh(store, api, registry, 10, clock=clock).result.snapshot_id
    reader = Reader(store, registry, clock)
    us = [reader.aggregate(s, PUBLISHER, COUNTRY, "US") for s in (first, second)]
    assert [row.downloads for row in us if row] == [1000, 4000]
    assert reader.aggregate(second, PUBLISHER, COUNTRY, "ZZ") is None


def test_a_running_reader_names_an_import_from_the_snapshot_that_counts_it(store, tmp_path):
    """``serve`` and ``scheduler`` keep one Reader for their lifetime: an import applied by
    another process reaches its answers with the first snapshot computed with it, no restart."""
    records = [
        make_record("Qwen/Qwen3-8B", downloads=6000),
        make_record("randomuser/big-model", downloads=3000),
    ]
    registry = Registry.from_orgs(o for o in load_registry() if o.org == "Qwen")
    clock = FrozenClock(TAKEN)
    atom = tmp_path / "atom.csv"
    atom.write_text(ATOM, encoding="utf-8")
    with FakeHub(records) as fake:
        api = hub.connect(fake.url, None)
        refresh(store, api, registry, 10, clock=clock)
        reader = Reader(store, registry, clock, follow_imports=True)
        reader.latest()
        assert reader.registry.get("randomuser") is None
        assert run("import", str(atom), "--apply").exit_code == 0
        reader.latest()
        assert reader.registry.get("randomuser") is None  # the latest aggregates do not count it
        clock.advance(timedelta(days=1))
        refresh(store, api, registry, 10, clock=clock)
    reader.latest()
    assert reader.registry.country_of("randomuser") == "US"
    assert Reader(store, registry, clock).registry.get("randomuser") is None  # not following
