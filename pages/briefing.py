"""Briefing pack: the charts chosen with "Add to briefing", in order, as a PDF and a PowerPoint.

Small numbers are always protected in the pack (whatever the publication switch says). The page
lists the chosen charts with their published headline, lets you reorder or remove them and add text
for each, and builds both files with one click (about 0.3 s a chart, a few seconds more for maps
and for the first picture).
"""

import time

import streamlit as st

from analytics.briefing import pack as briefing
from analytics.briefing import registry as chart_registry
from analytics.formatting import fmt_month, markdown_text
from ui import access, modes, render, shared

shared.run_through_dashboard()

TITLE_KEY = "briefing_title"
AUDIENCE_KEY = "briefing_audience"
AUDIENCE_LABELS = {
    "public": "Public: for a public paper (no provider named; marked OFFICIAL)",
    "internal": "Internal: names providers (marked OFFICIAL-SENSITIVE on every page)",
}
FILES_KEY = "briefing_files"


def _move(index: int, step: int) -> None:
    items = modes.briefing_items()
    target = index + step
    if 0 <= target < len(items):
        items[index], items[target] = items[target], items[index]


def _remove(index: int) -> None:
    items = modes.briefing_items()
    if 0 <= index < len(items):
        items.pop(index)


def _clear() -> None:
    modes.briefing_items().clear()
    st.session_state.pop(FILES_KEY, None)


def _text_key(item: briefing.BriefItem) -> str:
    return f"brief_text_{item.key}"


st.title("Briefing pack")
st.caption(
    "Charts for cabinet papers and briefings, as a PDF and a PowerPoint, opening on a one-page summary. "
    "Small numbers are always protected in the pack: counts of people below council level are rounded "
    "or shown as [c]."
)
if shared.require_data():
    items = modes.briefing_items()
    drop = shared.summary(shared.live_version())
    st.text_input(
        "Pack title",
        value=briefing.default_title(drop.as_of),
        key=TITLE_KEY,
        max_chars=120,
        persist_state="session",
    )
    audiences = access.pack_audiences()
    audience = st.radio(
        "Who is the pack for?",
        audiences,
        format_func=AUDIENCE_LABELS.get,
        key=AUDIENCE_KEY,
        horizontal=True,
        help="A public pack leaves out every chart that names a provider; an internal pack keeps them "
        "and is marked OFFICIAL-SENSITIVE (Government Security Classifications) on every page and slide.",
    )
    if audience not in audiences:
        audience = audiences[0]
    if not items:
        st.info("Choose charts with the **Add to briefing** button under any chart; they are listed here.")
    for index, item in enumerate(items):
        entry = chart_registry.entry(item.chart_id)
        with st.container(border=True):
            head, up, down, remove = st.columns([10, 1, 1, 1], vertical_alignment="center")
            try:
                spec = render.cached(chart_registry.build_chart, item.chart_id, item.filters, item.params, True)
                headline = spec.title
            except chart_registry.ChartUnavailable as exc:
                headline = f"Cannot be drawn: {exc}"
            if audience == "public" and entry.names_providers:
                headline = f"{headline} (names providers: left out of the public pack)"
            head.markdown(f"**{index + 1}. {markdown_text(headline)}**")
            head.caption(markdown_text(f"{entry.title} · {entry.page} · {briefing.filters_text(item.filters)}"))
            up.button(
                "",
                key=f"up_{item.key}",
                icon=":material/arrow_upward:",
                help="Move up",
                on_click=_move,
                args=(index, -1),
                disabled=index == 0,
            )
            down.button(
                "",
                key=f"down_{item.key}",
                icon=":material/arrow_downward:",
                help="Move down",
                on_click=_move,
                args=(index, 1),
                disabled=index == len(items) - 1,
            )
            remove.button(
                "",
                key=f"remove_{item.key}",
                icon=":material/delete:",
                help="Remove from the pack",
                on_click=_remove,
                args=(index,),
            )
            st.text_area(
                "Text for this chart (optional)",
                key=_text_key(item),
                height=80,
                max_chars=1200,
                persist_state="session",
                placeholder="What the chart means for the decision in the paper.",
            )
    if items:
        title = st.session_state.get(TITLE_KEY) or briefing.default_title(drop.as_of)
        texts = {item.key: st.session_state.get(_text_key(item)) or "" for item in items}
        signature = (shared.live_version(), tuple(i.key for i in items), title, tuple(texts.values()), audience)
        make, clear = st.columns([3, 1])
        if not access.can_make_packs():
            make.info("Briefing packs are made by analysts: your role can choose charts but not make the pack.")
        elif make.button("Make the PDF and PowerPoint", type="primary", icon=":material/picture_as_pdf:"):
            bar = st.progress(0.0, text="Drawing the charts")
            start = time.perf_counter()
            try:
                pack = briefing.make_pack(
                    shared.cursor(),
                    items,
                    title=title,
                    audience=audience,
                    texts=texts,
                    progress=lambda n, total, what: bar.progress(n / total, text=what),
                )
                pdf, pptx = briefing.pack_pdf(pack), briefing.pack_pptx(pack)
            except Exception as exc:  # noqa: BLE001 - shown to the user, who can remove the chart
                bar.empty()
                st.error(f"The pack could not be made: {exc}")
            else:
                bar.empty()
                st.session_state[FILES_KEY] = (signature, pdf, pptx, time.perf_counter() - start)
                access.audit(
                    "pack", source=title, drop_id=drop.drop_id, charts=[i.chart_id for i in items], audience=audience
                )
        clear.button("Empty the pack", on_click=_clear, icon=":material/clear_all:")
        files = st.session_state.get(FILES_KEY)
        if files is not None and files[0] == signature:
            _, pdf, pptx, seconds = files
            stem = briefing.slug(title) + ("-internal" if audience == "internal" else "")
            st.success(
                f"Made in {seconds:.1f} s: {len(items)} chart(s) asked for, a {audience} pack, "
                f"data as at {fmt_month(drop.as_of)}."
            )
            left, right = st.columns(2)
            left.download_button(
                "Download the PDF",
                data=pdf,
                file_name=f"{stem}.pdf",
                mime="application/pdf",
                icon=":material/download:",
                on_click="ignore",
            )
            right.download_button(
                "Download the PowerPoint",
                data=pptx,
                file_name=f"{stem}.pptx",
                mime="application/vnd.openxmlformats-officedocument.presentationml.presentation",
                icon=":material/download:",
                on_click="ignore",
            )
        elif files is not None:
            st.caption("The pack has changed since the files were made: make them again.")
