"""The picture cache: a pack made again draws nothing; a new drop, other filters or another audience do.

Real parts only: the demo drop refreshed into this module's own data store (a second refresh
changes it), ``make_pack`` on the live snapshot, one kaleido browser for the module, and the
cache's files on disk. Three cheap charts (a line, a bar by locality and a provider bar), so the
module draws about fifteen pictures. Without Chromium these tests skip locally but FAIL when ``CI``
is set.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
from pathlib import Path

import pytest
from PIL import Image

from analytics.briefing.pack import BriefItem, make_pack, resolve_filters
from analytics.publish import pictures
from analytics.publish.exports import browser_path, export_server, pictures_drawn
from analytics.store.snapshots import market_cursor, open_live, refresh

CHARTS = ("waiting-people", "waiting-localities", "providers-share")
PROVIDER_CHART = "providers-share"
LOCALITY = "Fellside"


def require_browser() -> None:
    if browser_path() is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but Chromium is missing: install the Debian chromium package")
        pytest.skip("Chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def store(demo_drop: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This module's own data store holding the demo drop (the last test refreshes it again)."""
    require_browser()
    data_dir = tmp_path_factory.mktemp("picture-store")
    assert refresh(demo_drop, data_dir, loaded_by="tests").accepted
    with export_server():
        yield data_dir


def pack(store: Path, audience: str = "internal", locality: str | None = None):
    con = open_live(store)
    try:
        cur = market_cursor(con)
        filters = resolve_filters(cur, locality=locality)
        items = [BriefItem(c, filters) for c in CHARTS]
        return make_pack(cur, items, title="Pictures", audience=audience)
    finally:
        con.close()


def files(store: Path, audience: str | None = None) -> dict[Path, int]:
    """{picture file: mtime_ns} under the cache (one audience's folder, or all)."""
    root = store / pictures.FOLDER
    found = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}
    return {p: t for p, t in found.items() if audience is None or p.parent.name == audience}


@pytest.fixture(scope="module")
def first(store: Path):
    """The internal pack made once with an empty cache."""
    assert not (store / pictures.FOLDER).exists()
    return pack(store)


def test_a_pack_made_again_draws_no_picture(store: Path, first):
    assert first.stats.drawn == len(CHARTS) and first.stats.reused == 0
    kept = files(store)
    assert len(kept) == len(CHARTS)
    drawn_before = pictures_drawn()

    again = pack(store)

    assert pictures_drawn() == drawn_before  # Chromium drew nothing
    assert (again.stats.drawn, again.stats.reused) == (0, len(CHARTS))
    assert [c.png for c in again.charts] == [c.png for c in first.charts]
    assert files(store) == kept  # no file rewritten
    for chart in again.charts:
        with Image.open(io.BytesIO(chart.png)) as image:
            assert image.format == "PNG" and image.width == 2 * 640


def test_pictures_are_owner_only_inside_the_data_store(store: Path, first):
    root = store / pictures.FOLDER
    assert root.parent == store
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))


def test_other_filters_draw_their_own_pictures(store: Path, first):
    before = files(store)
    local = pack(store, locality=LOCALITY)
    assert local.stats.drawn == len(local.charts) > 0
    assert local.stats.reused == 0
    assert {c.png for c in local.charts}.isdisjoint({c.png for c in first.charts})
    assert all(files(store)[p] == t for p, t in before.items())  # the council's pictures untouched
    assert pack(store, locality=LOCALITY).stats.drawn == 0


def test_a_public_pack_never_reads_an_internal_picture(store: Path, first):
    # Mark every internal picture: if the public pack read one, the mark would be in it.
    marker = io.BytesIO()
    Image.new("RGB", (3, 3), (255, 0, 255)).save(marker, format="PNG")
    internal = {p: p.read_bytes() for p in files(store, "internal")}
    assert internal
    for path in internal:
        path.write_bytes(marker.getvalue())

    public = pack(store, audience="public")

    assert PROVIDER_CHART not in {c.spec.id for c in public.charts}
    assert public.stats.reused == 0
    assert public.stats.drawn == len(public.charts) == len(CHARTS) - 1
    assert marker.getvalue() not in {c.png for c in public.charts}
    assert len(files(store, "public")) == len(public.charts)
    # ... and an internal pack made now reads the marked files: they really are the ones it keeps.
    assert marker.getvalue() in {c.png for c in pack(store).charts}
    for path, data in internal.items():
        path.write_bytes(data)


def test_a_damaged_or_partial_picture_is_drawn_again(store: Path):
    whole = pack(store)
    pngs = {c.png for c in whole.charts}
    kept = sorted(p for p in files(store, "internal") if p.read_bytes() in pngs)  # the council's
    assert len(kept) == len(CHARTS)
    originals = {p: p.read_bytes() for p in kept}
    kept[0].write_bytes(originals[kept[0]][: len(originals[kept[0]]) // 2])  # cut short
    damaged = bytearray(originals[kept[1]])
    damaged[len(damaged) // 2] ^= 0xFF  # one flipped byte: a chunk's CRC no longer holds
    kept[1].write_bytes(bytes(damaged))
    assert not pictures.whole_picture(kept[0].read_bytes(), "png")
    assert not pictures.whole_picture(kept[1].read_bytes(), "png")

    again = pack(store)

    assert (again.stats.drawn, again.stats.reused) == (2, len(CHARTS) - 2)
    assert [c.png for c in again.charts] == [c.png for c in whole.charts]
    assert all(p.read_bytes() == originals[p] for p in kept)


def test_a_chart_download_is_drawn_once_and_kept_apart(store: Path, monkeypatch: pytest.MonkeyPatch):
    """The dashboard's PNG and SVG buttons (``ui.modes``) go through the same cache, as ``download``."""
    from analytics.briefing import registry
    from analytics.publish import exports
    from ui import modes, shared

    monkeypatch.setenv("MARKET_DATA_DIR", str(store))
    monkeypatch.setattr(exports, "_stay_warm", exports._stay_warm)  # the dashboard keeps Chromium; tests do not
    spec = registry.build_published(shared.cursor(), CHARTS[0], shared.current_filters(), {})
    drawn = pictures_drawn()
    png, svg = modes._png(spec), modes._svg(spec)
    assert pictures_drawn() == drawn + 2
    assert (modes._png(spec), modes._svg(spec)) == (png, svg)
    assert pictures_drawn() == drawn + 2  # the second click read the files
    kept = files(store, "download")
    assert sorted(p.suffix for p in kept) == [".png", ".svg"]
    assert {p.read_bytes() for p in kept} == {png, svg}
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (1800, 1040)  # the download's size, not the pack's
    assert b"<svg" in svg[:200]


def test_a_new_drop_draws_new_pictures_and_old_ones_go(
    store: Path, demo_drop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from analytics import config

    pack(store)
    old = {p.parts[-3] for p in files(store)}
    assert len(old) == 1
    changed = tmp_path / "drop"
    shutil.copytree(demo_drop, changed)
    providers = changed / "providers.csv"
    lines = providers.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace(" Ltd,", " Limited,", 1)  # one provider renamed
    assert lines[1] != providers.read_text(encoding="utf-8").splitlines()[1]
    providers.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setitem(config.settings()["store"], "keep_snapshots", 0)  # the old snapshot goes
    assert refresh(changed, store, loaded_by="tests").accepted

    new = pack(store)

    assert new.stats.drawn == len(CHARTS) and new.stats.reused == 0
    now = {p.parts[-3] for p in files(store)}
    assert len(now) == 1 and now.isdisjoint(old)  # the old snapshot's pictures were removed with it


def test_scope_text_is_normalised():
    from datetime import date

    from analytics.views.filters import Filters

    a = Filters(month=date(2026, 10, 1), locality="Fellside", service_type=None)
    assert pictures.scope_text(a) == "locality=Fellside;month=2026-10-01"  # no filter: left out
    assert pictures.scope_text(a) == pictures.scope_text(
        Filters(month=date(2026, 10, 1), locality="Fellside", service_type=None)
    )
    assert pictures.scope_text(a) != pictures.scope_text(Filters(month=date(2026, 10, 1), service_type=None))
    assert pictures.scope_text(a, (("provider", "P1"),)) == "locality=Fellside;month=2026-10-01;param.provider=P1"
