"""Data: what is loaded, and the analyst's tools: load a new drop, what changed, history and rollback.

Thin glue: staging uploads is ``analytics.ingest.upload``, checking and loading ``analytics.store.snapshots``,
comparing drops and the audit history ``analytics.store.drop_diff``. Nothing changes until the analyst
confirms a drop that passed every check. Sections are filled in the order actions must happen (a
load or rollback first), then drawn top to bottom, so everything below reflects the action at once.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
import streamlit as st

from analytics.formatting import markdown_text
from analytics.ingest import upload
from analytics.ingest.report import issues_frame
from analytics.store import drop_diff, queries
from analytics.store import snapshots as store
from ui import access, shared

shared.run_through_dashboard()

STATE = "drop_upload_state"  # the staged upload and its check, for the files now in the uploader
ROLLBACK_PENDING = "rollback_pending"
ROLLBACK_DONE = "rollback_done"
LAST_LIVE = "data_page_live_drop"
FILTER_KEYS = ("errors_files", "errors_rules", "warnings_files", "warnings_rules")

data_dir = shared.data_dir()

st.title("Data")
summary_box = st.container()
name_box = st.container()
load_box = st.container()
changes_box = st.container()
history_box = st.container()
live_box = st.container()


def _progress_bar(label: str):
    """Return (status, callback) drawing ``store``'s progress steps in a status box."""
    status = st.status(label, expanded=True)
    bar = status.progress(0.0, text="Starting")

    def callback(step: str, fraction: float) -> None:
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=step)

    return status, callback


def _stage_and_check(files) -> dict | None:
    """Stage and check the uploaded files once per set of files; return the state for them."""
    signature = tuple((f.file_id, f.name, f.size) for f in files or [])
    state = st.session_state.get(STATE)
    if state and state["signature"] == signature:
        return state
    if state and state.get("root"):
        upload.discard(state["root"], data_dir)
    st.session_state.pop(STATE, None)
    if not signature:
        return None
    for key in FILTER_KEYS:
        st.session_state.pop(key, None)
    state = {"signature": signature}
    st.session_state[STATE] = state
    source = files[0].name if len(files) == 1 else f"{len(files)} files uploaded in the browser"
    with st.status("Checking the drop…", expanded=False) as status:  # in a memory-limited child process
        check = store.check_upload(
            ((f.name, f.getvalue()) for f in files), data_dir, source=source, by=access.identity_label()
        )
        if check.error:
            status.update(label="The drop could not be read", state="error", expanded=False)
            state["upload_error"] = check.error
            return state
        errors = check.report["error_count"]
        label = "Checked: the drop is valid" if check.ok else f"Checked: {errors:,} error(s)"
        status.update(label=label, state="complete" if check.ok else "error", expanded=False)
    state.update(report=check.report, ok=check.ok)
    if check.ok:  # refusals are audited by the check itself ("upload rejected")
        access.audit("checked", source=source, outcome="valid", warnings=check.report.get("warning_count"))
    if check.staged is not None:
        state.update(root=str(check.staged.root), folder=str(check.staged.folder), names=check.staged.names)
    return state


def _issues_table(frame: pl.DataFrame, prefix: str) -> None:
    """Draw issues with file and rule filters."""
    left, right = st.columns(2)
    files = left.multiselect(
        "Filter by file", sorted(frame["file"].unique().to_list()), key=f"{prefix}_files", placeholder="All files"
    )
    rules = right.multiselect(
        "Filter by rule", sorted(frame["rule"].unique().to_list()), key=f"{prefix}_rules", placeholder="All rules"
    )
    shown = upload.filter_issues(frame, files, rules)
    st.caption(f"Showing {shown.height:,} of {frame.height:,}. Row numbers are as Excel shows them (header = row 1).")
    st.dataframe(shown, hide_index=True, key=f"{prefix}_table", width="stretch")


def _confirm(state: dict, name: str) -> None:
    """The confirm step: make the checked drop live for everyone."""
    ready = bool(state.get("ok")) and not state.get("outcome")
    clicked = st.button(
        "Make this drop live",
        key="confirm_drop",
        type="primary",
        disabled=not (ready and name),
        help="Replaces the live data for everyone with this drop. You can roll back afterwards.",
    )
    held, again = state.get("held"), False  # a valid drop that shrinks the live data: a second confirm loads it
    if held and not state.get("outcome"):
        with st.container(key="shrink_confirm"):
            st.warning(f"{markdown_text(held['reason'])} Is the fall real?")
            left, right = st.columns(2)
            again = left.button(
                "Yes, the fall is real: make it live", key="confirm_shrink", type="primary", disabled=not name
            )
            right.button("Cancel", key="cancel_shrink", on_click=state.pop, args=("held", None))
        clicked = clicked or again
    if not clicked:
        return
    status, progress = _progress_bar("Loading the drop…")
    with status:
        try:
            outcome = store.refresh(state["folder"], data_dir, loaded_by=name, progress=progress, accept_shrink=again)
        except (store.StoreError, FileNotFoundError, ValueError) as exc:
            status.update(label="The drop was not loaded", state="error", expanded=True)
            st.error(f"Nothing has changed: {exc}. Upload the drop again to retry.")
            return
    if outcome.accepted:
        status.update(label="Loaded", state="complete", expanded=False)
        state["outcome"] = {
            "drop_id": outcome.drop_id,
            "as_of": outcome.report.get("as_of"),
            "at": datetime.now().strftime("%H:%M"),
            "by": name,
        }
        upload.discard(state["root"], data_dir)  # the store's archive keeps the drop
        state.pop("root", None)
        st.session_state.pop(ROLLBACK_DONE, None)
    elif outcome.held:  # audited as "held"; nothing changed
        status.update(label="Not loaded yet: the drop shrinks the live data", state="error", expanded=False)
        state["held"] = outcome.shrink
    else:  # the drop changed between the check and now
        state.update(report=outcome.report, ok=False)
    st.rerun()  # redraw the whole app (sidebar included) from the new live data


def _load_section(name: str) -> None:
    st.subheader("Load a new drop")
    st.caption(
        "Upload one **.zip** of the month's drop, or its files (CSV, XLSX, Parquet, manifest, boundaries; "
        "CQC or ONS RUC files may ride along). It is checked first: **nothing changes until you make a valid "
        "drop live.** See docs/analyst-guide.md."
    )
    files = st.file_uploader(
        "Drop files",
        type=upload.uploader_types(),
        accept_multiple_files=True,
        key="drop_upload",
        max_upload_size=max(1, upload.max_upload_bytes() // (1024 * 1024)),
    )
    state = _stage_and_check(files)
    if state is None:
        return
    if state.get("upload_error"):
        st.error(f"This upload can't be used, and nothing has changed. {state['upload_error']}")
        return
    report = state["report"]
    errors, warnings = issues_frame(report, "errors"), issues_frame(report, "warnings")
    counts = st.columns(3)
    counts[0].metric("Errors", f"{errors.height:,}")
    counts[1].metric("Warnings", f"{warnings.height:,}")
    counts[2].metric("Files read", f"{len(report['files']):,}")
    outcome = state.get("outcome")
    if outcome:
        st.success(
            f"Drop `{outcome['drop_id']}` (data as at {outcome['as_of'] or 'unknown'}) was made live for everyone "
            f"at {outcome['at']} by {outcome['by']}. Every page now shows it."
        )
    elif not state["ok"]:
        st.error(
            f"This drop can't be loaded: {errors.height:,} problem(s) to fix. **Nothing has changed**: the live "
            "data is as it was. Fix the files and upload the drop again."
        )
    else:
        st.success("The drop passed every check. Look through the warnings, then make it live.")
    for key, title in (("defects", "Distinct defects"), ("warning_defects", "Distinct warnings")):
        if report.get(key):  # every error and warning row belongs to one line here, with its row ranges
            with st.container(key=f"{key}_list"):
                st.markdown(f"**{title}** ({len(report[key]):,}), each with every row it covers:")
                st.markdown("\n".join(f"{n}. {markdown_text(d['summary'])}" for n, d in enumerate(report[key], 1)))
    if errors.height:
        st.markdown("**Errors** (the drop is rejected until these are fixed)")
        with st.container(key="error_report"):
            _issues_table(errors, "errors")
    if warnings.height:
        with st.expander(f"Warnings ({warnings.height:,}): worth a look, they don't stop the drop"):
            _issues_table(warnings, "warnings")
    with st.expander("Files found in the drop"):
        st.dataframe(pl.DataFrame(report["files"]), hide_index=True, key="upload_files_table")
    markdown, json_text = upload.report_downloads(report)
    left, right = st.columns(2)
    left.download_button(
        "Download the report (Markdown)", markdown, file_name="drop-report.md", mime="text/markdown", key="report_md"
    )
    right.download_button(
        "Download the report (JSON)",
        json_text,
        file_name="drop-report.json",
        mime="application/json",
        key="report_json",
    )
    _confirm(state, name)


@st.cache_data(max_entries=4, show_spinner="Comparing the drops…")
def _diff(folder: str, against: str, version: tuple[str, int, int]) -> drop_diff.DropDiff | None:
    """What changed (cached per live snapshot version and comparison drop)."""
    return drop_diff.diff_live(folder, against)


def _changes_section() -> None:
    st.subheader("What changed")
    version = shared.live_version()
    others = [e for e in drop_diff.kept_drops(data_dir) if not e.get("live")]
    if version is None or not others:
        st.info("Nothing to compare yet: this appears once a second drop has been loaded.")
        return
    options = [e["drop_id"] for e in others]
    labels = {e["drop_id"]: f"{e['drop_id']} · as at {e.get('as_of')} · loaded by {e.get('by')}" for e in others}
    previous = drop_diff.previous_drop(data_dir)
    if st.session_state.get("compare_with") not in options:
        st.session_state.pop("compare_with", None)
    against = st.selectbox(
        "Compare the live drop with",
        options,
        index=options.index(previous) if previous in options else 0,
        key="compare_with",
        format_func=labels.get,
    )
    diff = _diff(str(data_dir), against, version)
    if diff is None:
        st.info("That drop is no longer kept.")
        return
    st.caption(
        f"Live drop `{diff.after.drop_id}` (as at {diff.after.as_of}, loaded by {diff.after.loaded_by}) "
        f"against `{diff.before.drop_id}` (as at {diff.before.as_of}, loaded by {diff.before.loaded_by})."
    )
    st.markdown("**Rows added, removed and changed per file**")
    st.dataframe(diff.files, hide_index=True, key="diff_files_table")
    if diff.examples.height:
        with st.expander("Which rows (up to 20 per file and change)"):
            st.dataframe(diff.examples, hide_index=True, key="diff_examples_table")
    st.markdown("**Headline measures before and after**")
    if diff.headline_error:
        st.warning(diff.headline_error)
    only_changed = st.checkbox("Only measures that changed", value=True, key="changed_only")
    st.dataframe(diff.headline_table(only_changed), hide_index=True, key="diff_headline_table")


def _history_section(name: str) -> None:
    st.subheader("History and rollback")
    table_box = st.container()
    live = store.shown_live_drop_id(store.store_paths(data_dir)) if shared.live_version() else None
    target = drop_diff.previous_drop(data_dir, live) if live else None
    if st.session_state.get(ROLLBACK_PENDING) not in (None, target):  # the live drop changed meanwhile
        st.session_state.pop(ROLLBACK_PENDING, None)
    if not access.can_change_data():
        st.caption("Rolling back is for analysts.")
    elif target is None:
        st.caption("There is no earlier drop kept to roll back to.")
    else:
        info = next((e for e in drop_diff.kept_drops(data_dir) if e["drop_id"] == target), {})
        st.markdown(
            f"Rolling back makes drop `{target}` (data as at {info.get('as_of')}, loaded {info.get('at')} by "
            f"{info.get('by')}) live again, for everyone. The current drop stays in the archive."
        )
        st.button(
            "Roll back to the previous drop",
            key="rollback",
            on_click=st.session_state.__setitem__,
            args=(ROLLBACK_PENDING, target),
        )
        if st.session_state.get(ROLLBACK_PENDING) == target:
            st.warning(f"Are you sure? This replaces the live data for everyone with drop `{target}`.")
            left, right = st.columns(2)
            confirmed = left.button("Yes, roll back now", key="rollback_confirm", type="primary", disabled=not name)
            right.button("Cancel", key="rollback_cancel", on_click=st.session_state.pop, args=(ROLLBACK_PENDING, None))
            if confirmed:
                st.session_state.pop(ROLLBACK_PENDING, None)
                try:
                    entry = store.rollback(data_dir, to=target, by=name)
                except store.StoreError as exc:
                    st.error(f"Nothing has changed: {exc}")
                else:
                    st.session_state[ROLLBACK_DONE] = {**entry, "by": name}
                    st.rerun()  # redraw the whole app (sidebar included) from the restored drop
    done = st.session_state.get(ROLLBACK_DONE)
    if done:
        st.success(
            f"Rolled back: drop `{done['drop_id']}` is live again (was `{done['from_drop_id']}`), by {done['by']}. "
            "Every page now shows it."
        )
    with table_box:
        events = drop_diff.audit_table(data_dir)
        if events.is_empty():
            st.info("No drop has been loaded or rejected yet.")
        else:
            st.dataframe(events, hide_index=True, key="audit_table", column_config=drop_diff.AUDIT_LABELS)


name = access.identity_label()  # the signed-in identity the audit log records (never typed)
with load_box:
    if access.can_change_data():
        with name_box:
            st.caption(f"What you load or roll back here is recorded in the audit log as {access.plain(name)}.")
        _load_section(name)
    else:
        st.subheader("Load a new drop")
        st.info("Loading a new drop is for analysts: your role can see the data but not change it.")
with history_box:
    _history_section(name)

version = shared.live_version()
current = shared.summary(version).drop_id if version else None
if st.session_state.get(LAST_LIVE) != current:  # a new live drop: compare it with its predecessor
    st.session_state[LAST_LIVE] = current
    st.session_state.pop("compare_with", None)

with summary_box:
    if version is None:
        st.warning("No data has been loaded yet. Upload a drop below to load the first one.")
    else:
        drop = shared.summary(version)
        st.markdown(
            f"**{markdown_text(drop.council_name or 'Council')}**"
            f"{' (synthetic demo data)' if drop.synthetic else ''} · "
            f"data as at **{drop.as_of:%d %B %Y}** · drop `{drop.drop_id}` loaded {drop.loaded_at} by "
            f"{markdown_text(drop.loaded_by)}"
        )
with changes_box:
    _changes_section()
with live_box:
    if version is not None:
        cur = shared.cursor()
        st.subheader("Files in the live drop")
        st.dataframe(queries.file_summary(cur), hide_index=True, key="files_table")
        st.subheader("Data-quality warnings")
        live_warnings = queries.data_warnings(cur)
        if live_warnings.height:
            st.dataframe(live_warnings, hide_index=True, key="warnings_table")
        else:
            st.success("No warnings for this drop.")
