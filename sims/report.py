"""The report card: ``report.md`` and ``report.html`` from ``results.json`` (written atomically)."""

from __future__ import annotations

import html
import json
from pathlib import Path

from hmin.sims.store import atomic_write_text

__all__ = ["write_reports", "summary_table", "format_numbers", "headline", "paper_of", "is_field", "HOME_PAPER",
           "FIELD_TITLE"]

BADGE = {"holds": "#2e7d32", "violated": "#c62828", "inconclusive": "#ef6c00", "outside hypothesis": "#546e7a",
         "error": "#6a1b9a",
         "proved": "#2e7d32", "disproved": "#c62828", "unproven": "#ef6c00", "none": "#757575"}

INTRO = (
    "Each row is one registered statement and speaks for the paper in its *paper* column: the built-in rows for "
    "Wang & Gu (arXiv 2506.24120) as formalised by this project (docs/statements.md, `hmin statements`), the rows of "
    "the field section for the published theorem each names (docs/field.md), a plug-in's row for the paper its "
    "author names. "
    "**EXACT** = that paper's own formula or an identity; **OURS** = a formalisation (by this project, or by the "
    "plug-in's author) that carries that paper's message, never its wording; **QUESTION** = a question answered by "
    "measurement. "
    "*Symbolic*: what sympy established (proved / disproved / unproven; unproven is backed by a numeric "
    "counterexample search). *Numeric*: the "
    "verdict of the measured check (holds / violated / inconclusive / outside hypothesis: the runs lie outside the "
    "statement's hypotheses, decided before measuring) under the rule shown; with several seeds it is the verdict "
    "combined over seeds, never one seed's. Negative controls "
    "(deliberately false variants) must come out disproved; refuted drafts are earlier wordings of a statement "
    "that the toolkit refutes, shown with their counterexamples. Distances are "
    "h_min (minimum pairwise distance) unless a number says q_X = h_min/2."
)

#: the paper the built-in statements formalise (their ``paper_ref`` is a numbering inside it)
HOME_PAPER = "Wang & Gu (arXiv 2506.24120)"
#: the title of the report card's section of published theorems of the field (rows whose source is "field")
FIELD_TITLE = "The field: published theorems, checked side by side"


def paper_of(row: dict) -> str:
    """The paper a row speaks for: the built-in statements' paper plus their numbering in it, else the row's own
    ``paper_ref`` (a plug-in or a field statement names its paper there).

    Examples:
        >>> paper_of({"source": "built-in", "paper_ref": "Thm 3.1 (v1)"})
        'Wang & Gu (arXiv 2506.24120), Thm 3.1 (v1)'
        >>> paper_of({"source": "plugin x.py", "paper_ref": ""})
        "none (the author's own statement)"
    """
    ref = row.get("paper_ref") or ""
    if row.get("source", "built-in") == "built-in":
        return HOME_PAPER + (f", {ref}" if ref else "")
    return ref or "none (the author's own statement)"


def is_field(row: dict) -> bool:
    """Whether a row belongs to the field section (a published theorem shipped in ``hmin.zoo``)."""
    return str(row.get("source", "")).startswith("field")


def _fmt(v) -> str:
    if isinstance(v, float):
        if v != v:
            return "nan"
        if v == 0:
            return "0"
        a = abs(v)
        return f"{v:.4g}" if 1e-3 <= a < 1e5 else f"{v:.3e}"
    if isinstance(v, (list, tuple)):
        items = [_fmt(x) for x in v[:6]]
        return "[" + ", ".join(items) + (", ..." if len(v) > 6 else "") + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_fmt(x)}" for k, x in list(v.items())[:6]) + (", ..." if len(v) > 6 else "") + "}"
    return str(v)


def format_numbers(numbers: dict, limit: int = 12, labels: dict | None = None) -> list[str]:
    """``label = value`` strings for the key numbers of a check (the machine key where no label is given)."""
    labels = labels or {}
    return [f"{labels.get(k, k)} = {_fmt(v)}" for k, v in list((numbers or {}).items())[:limit]]


def _ids(results: dict, ids=None) -> list[str]:
    # here: the statements (sympy) load only when needed
    from hmin.theory import statement_sort_key

    ids = ids or sorted((i for i in results if i != "meta"), key=statement_sort_key)
    ids = [i for i in ids if i in results]
    return [i for i in ids if not is_field(results[i])] + [i for i in ids if is_field(results[i])]  # field section last


def _stability(r: dict) -> str:
    """Per-seed verdicts in one short string, e.g. "5/5 holds" or "3 holds, 2 inconclusive -> inconclusive"."""
    c = r.get("combined")
    if not c:
        return "1 seed"
    per = list(c.get("per_seed", {}).values())
    counts = {v: per.count(v) for v in dict.fromkeys(per)}
    if len(counts) == 1:
        return f"{len(per)}/{len(per)} {per[0]}"
    return ", ".join(f"{n} {v}" for v, n in counts.items()) + f" -> {c.get('verdict')}"


def headline(r: dict) -> str:
    """The headline verdict of a row: the verdict combined over seeds when it ran on several, else its own.

    Example:
        >>> headline({"verdict": "holds", "combined": {"verdict": "inconclusive"}}), headline({"verdict": "holds"})
        ('inconclusive', 'holds')
    """
    return str((r.get("combined") or {}).get("verdict") or r.get("verdict", "-"))


def _fresh(conf: dict | None, i: str) -> str:
    if not conf or i not in conf:
        return "—"
    return headline(conf[i])


def _role(s: dict) -> str:
    role = s.get("role", "claim")
    return "" if role == "claim" else ("negative control, " if role == "control" else "refuted draft, ")


def summary_table(results: dict, ids=None) -> str:
    """A plain-text report card for the terminal."""
    multi = any(results.get(i, {}).get("combined") for i in _ids(results, ids))
    w = max([6] + [len(i) for i in _ids(results, ids)])
    lines = [f"{'id':{w}s} {'kind':8s} {'symbolic':10s} {'numeric':18s}" + (f" {'seeds':24s}" if multi else "")
             + f" {'time':>7s}  title"]
    for i in _ids(results, ids):
        r = results[i]
        wall = sum(float(s.get("wall_s") or 0) for s in r.get("seeds", {}).values()) or float(r.get("wall_s") or 0)
        lines.append(f"{i:{w}s} {r.get('kind', '-'):8s} {r.get('symbolic', {}).get('status', '-'):10s} "
                     f"{headline(r):18s}" + (f" {_stability(r)[:24]:24s}" if multi else "")
                     + f" {wall:6.1f}s  {r.get('title', '')}")
        if r.get("attack"):
            lines.append(f"       attack: {attack_line(r['attack'])}")
        if r.get("status") == "error":
            lines.append(f"{'':{w}s} error: {r.get('error')}")
    return "\n".join(lines)


def _md(results: dict, conf: dict | None = None) -> str:
    meta = results.get("meta", {})
    out = ["# hmin report card", "",
           f"Preset **{meta.get('preset', '?')}**, seed {meta.get('seed', 0)}, {meta.get('date', '')}; "
           f"last run {meta.get('wall_s_last_run', 0):.0f} s on {meta.get('machine', '?')}; "
           + ", ".join(f"{k} {v}" for k, v in meta.get("versions", {}).items()), "", INTRO, "",
           "| id | statement | kind | paper | symbolic | numeric | seeds | fresh seeds | key numbers |",
           "|---|---|---|---|---|---|---|---|---|"]
    if meta.get("combined_rule"):
        out[out.index(INTRO) + 1:out.index(INTRO) + 1] = [f"Seeds {', '.join(map(str, meta.get('seeds', [])))}; "
                                                            f"*numeric* is the verdict combined over them, "
                                                            f"*seeds* the verdict per seed ({meta['combined_rule']}); "
                                                            "*fresh seeds*: the combined verdict of the confirmation run "
                                                            "(below).", ""]
    field = [i for i in _ids(results) if is_field(results[i])]
    for i in _ids(results):
        r = results[i]
        if i == (field[0] if field else None):
            out += ["", f"### {FIELD_TITLE}", "", "Each row names its own paper; docs/field.md compares them.", "",
                    "| id | statement | kind | paper | symbolic | numeric | seeds | fresh seeds | key numbers |",
                    "|---|---|---|---|---|---|---|---|---|"]
        nums = "; ".join(format_numbers(r.get("numbers", {}), 4, r.get("labels"))).replace("|", "\\|")
        out.append(f"| [{i}](#{i.lower()}) | {r.get('title', '')} | {r.get('kind', '—')} | {paper_of(r)} "
                   f"| {r.get('symbolic', {}).get('status', '—')} | **{headline(r)}** | {_stability(r)} "
                   f"| {_fresh(conf, i)} | {nums} |")
    for i in _ids(results):
        r = results[i]
        out += ["", f"## {i}", "", f"**{r.get('title', '')}** ({r.get('kind', 'question')}"
                + f"; paper {paper_of(r)}" + f"; preset {r.get('preset')})", ""]
        if r.get("text"):
            out += [f"> {r['text']}", ""]
        if r.get("hypotheses"):
            out += ["Hypotheses: " + "; ".join(r["hypotheses"]), ""]
        sym = r.get("symbolic", {})
        if sym.get("results"):
            out += [f"**Symbolic: {sym.get('status')}**", ""]
            for s in sym["results"]:
                m = "" if s.get("margin") is None else f" (margin {_fmt(s['margin'])})"
                out.append(f"- *{s['status']}* ({_role(s)}{s.get('method', '')}): {s['claim']}{m}")
                if s.get("role") == "refuted draft":
                    out.append(f"  - counterexample: {s.get('detail', '')}")
            c = sym.get("counts", {})
            if c.get("controls"):
                out.append(f"- negative controls (deliberately false variants) refuted: "
                           f"{c['controls_refuted']}/{c['controls']}")
            if c.get("drafts"):
                out.append(f"- refuted drafts (earlier wordings) refuted: {c['drafts_refuted']}/{c['drafts']}")
            out.append("")
        elif sym.get("status") == "error":
            out += [f"**Symbolic: error** {sym.get('error')}", ""]
        out += [f"**Numeric: {headline(r)}**" + (f" (combined over seeds; seed {r.get('seed')}'s: {r.get('verdict')}, "
                                                 "whose numbers are shown below)" if r.get("combined") else "")
                + (f" ({r.get('wall_s', 0):.1f} s)" if r.get("wall_s") else ""), ""]
        if r.get("hypotheses_checked_before"):
            out += ["Hypotheses decided before the measurement (runs outside are 'outside hypothesis'): "
                    + "; ".join(f"{h}: {how}" for h, how in r["hypotheses_checked_before"].items()), ""]
        for h, c in (r.get("hypothesis_counts") or {}).items():
            out += [f"Inside '{h}': " + ", ".join(f"{k} {v}" for k, v in c.items() if k != "decided_by"), ""]
        if r.get("status") == "error":
            out += ["```", r.get("traceback", r.get("error", "")), "```", ""]
        if r.get("rule"):
            out += [f"Rule: {r['rule']}", ""]
        if r.get("power"):
            out += [f"Power: {r['power']}", ""]
        if r.get("attack"):
            out += [f"Attack (hmin attack, {r['attack']['method']}): {attack_line(r['attack'], r.get('verdict'))}"
                    + (f" ![margin vs iteration]({r['attack']['figure']})" if r["attack"].get("figure") else ""), ""]
        if r.get("combined"):
            c = r["combined"]
            out += [f"Over seeds: **{c['verdict']}** ({_stability(r)}; "
                    + ", ".join(f"seed {k}: {v}" for k, v in c.get("per_seed", {}).items()) + ")", ""]
        for line in format_numbers(r.get("numbers", {}), 30, r.get("labels")):
            out.append(f"- {line}")
        if r.get("notes"):
            out += ["", f"Notes: {r['notes']}"]
        for f in r.get("figures", []):
            out += ["", f"![{i}]({f})"]
    return "\n".join(out) + "\n"


def _attack_text(r: dict) -> str:
    return f"({r['attack']['method']}) {attack_line(r['attack'], r.get('verdict'))}"


def _badge(s: str) -> str:
    return f'<span class="b" style="background:{BADGE.get(s, "#757575")}">{html.escape(str(s))}</span>'


def _html(results: dict, conf: dict | None = None) -> str:
    meta = results.get("meta", {})
    e = html.escape
    rows = []
    field = [i for i in _ids(results) if is_field(results[i])]
    for i in _ids(results):
        r = results[i]
        if i == (field[0] if field else None):
            rows.append(f"<tr><th colspan='9'><h3 id='field'>{e(FIELD_TITLE)}</h3></th></tr>")
        nums = "<br>".join(e(x) for x in format_numbers(r.get("numbers", {}), 4, r.get("labels")))
        rows.append(f"<tr><td><a href='#{i}'>{i}</a></td><td>{e(r.get('title', ''))}</td><td>{e(r.get('kind', '—'))}</td>"
                    f"<td>{e(paper_of(r))}</td><td>{_badge(r.get('symbolic', {}).get('status', 'none'))}</td>"
                    f"<td>{_badge(headline(r))}</td><td>{e(_stability(r))}</td><td>{e(_fresh(conf, i))}</td>"
                    f"<td class='n'>{nums}</td></tr>")
    sections = []
    for i in _ids(results):
        r = results[i]
        sym = r.get("symbolic", {})
        syms = "".join(
            f"<li>{_badge(s['status'])} <i>{e(_role(s))}{e(s.get('method', ''))}</i> "
            f"{e(s['claim'])}"
            + ("" if s.get("margin") is None else f" <small>(margin {e(_fmt(s['margin']))})</small>")
            + f"<div class='d'>{e(s.get('detail', ''))}</div></li>" for s in sym.get("results", []))
        figs = "".join(f"<figure><a href='{e(f)}'><img src='{e(f)}' alt='{i}'></a></figure>" for f in r.get("figures", []))
        nums = "".join(f"<li>{e(x)}</li>" for x in format_numbers(r.get("numbers", {}), 30, r.get("labels")))
        if r.get("combined"):
            c = r["combined"]
            nums = (f"<p><b>Over seeds:</b> {_badge(c['verdict'])} {e(_stability(r))}: "
                    + e(", ".join(f"seed {k}: {v}" for k, v in c.get("per_seed", {}).items())) + "</p>" + nums)
        err = f"<pre>{e(r.get('traceback', r.get('error', '')))}</pre>" if r.get("status") == "error" else ""
        sections.append(
            f"<section id='{i}'><h2>{i}: {e(r.get('title', ''))} {_badge(headline(r))}</h2>"
            f"<p class='m'>{e(r.get('kind', 'question'))} · paper {e(paper_of(r))}"
            f" · preset {e(str(r.get('preset')))} · {r.get('wall_s', 0):.1f} s</p>"
            + (f"<blockquote>{e(r['text'])}</blockquote>" if r.get("text") else "")
            + (f"<p><b>Hypotheses:</b> {e('; '.join(r['hypotheses']))}</p>" if r.get("hypotheses") else "")
            + (f"<h3>Symbolic {_badge(sym.get('status', 'none'))}</h3><ul>{syms}</ul>" if syms else "")
            + f"<h3>Numeric {_badge(headline(r))}</h3>{err}"
            + (f"<p class='m'>combined over seeds; seed {e(str(r.get('seed')))}'s verdict {e(str(r.get('verdict')))}, "
               "whose numbers are shown below</p>" if r.get("combined") else "")
            + ("<p><b>Hypotheses decided before the measurement:</b> " + e("; ".join(
                f"{h}: {how}" for h, how in r["hypotheses_checked_before"].items())) + "</p>"
               if r.get("hypotheses_checked_before") else "")
            + (f"<p><b>Rule:</b> {e(r['rule'])}</p>" if r.get("rule") else "")
            + (f"<p><b>Power:</b> {e(r['power'])}</p>" if r.get("power") else "")
            + (f"<p><b>Attack:</b> {e(_attack_text(r))}</p>" if r.get("attack") else "")
            + f"<ul class='n'>{nums}</ul>"
            + (f"<p><b>Notes:</b> {e(r['notes'])}</p>" if r.get("notes") else "")
            + figs + "</section>")
    versions = ", ".join(f"{k} {v}" for k, v in meta.get("versions", {}).items())
    intro = e(INTRO).replace("**EXACT**", "<b>EXACT</b>").replace("**OURS**", "<b>OURS</b>")
    intro = intro.replace("*Symbolic*", "<i>Symbolic</i>").replace("*Numeric*", "<i>Numeric</i>")
    intro = intro.replace("**QUESTION**", "<b>QUESTION</b>")
    if meta.get("combined_rule"):
        intro += (f"</p><p>Seeds {e(', '.join(map(str, meta.get('seeds', []))))}: <i>numeric</i> is the verdict "
                  f"combined over them, <i>seeds</i> the verdict per seed ({e(meta['combined_rule'])}); <i>fresh "
                  "seeds</i>: the combined verdict of the confirmation run.")
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>hmin report card</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}}
table{{border-collapse:collapse;width:100%;font-size:14px}} td,th{{border-bottom:1px solid #ddd;padding:6px;vertical-align:top;text-align:left}}
.b{{color:#fff;border-radius:4px;padding:1px 7px;font-size:12px;font-weight:600}}
.n{{font-family:ui-monospace,monospace;font-size:12px}} .m{{color:#666}} .d{{color:#555;font-size:12px;margin:2px 0 6px 0}}
blockquote{{border-left:4px solid #ccc;margin:0;padding:0.3em 1em;background:#fafafa}}
img{{max-width:100%;border:1px solid #eee}} section{{margin-top:2.5em}} pre{{background:#f5f5f5;padding:1em;overflow:auto}}
</style></head><body>
<h1>hmin report card</h1>
<p class="m">Preset <b>{e(str(meta.get('preset', '?')))}</b>, seed {meta.get('seed', 0)}, {e(meta.get('date', ''))};
last run {meta.get('wall_s_last_run', 0):.0f} s on {e(meta.get('machine', '?'))}; {e(versions)}</p>
<p>{intro}</p>
<table><tr><th>id</th><th>statement</th><th>kind</th><th>paper</th><th>symbolic</th><th>numeric</th><th>seeds</th><th>fresh seeds</th><th>key numbers</th></tr>
{''.join(rows)}</table>
{''.join(sections)}
</body></html>
"""


def _confirmation(outdir: Path) -> dict | None:
    """The results of ``hmin verify --confirm`` (fresh seeds) stored under ``outdir/confirmation``, if any."""
    p = outdir / "confirmation" / "results.json"
    try:
        return json.loads(p.read_text()) if p.exists() else None
    except (json.JSONDecodeError, OSError):
        return None


def confirmation_rows(results: dict, conf: dict) -> list[list[str]]:
    """Rows (id, fresh seeds' verdicts, combined on fresh seeds, combined on the report's seeds, agreement)."""
    rows = []
    for i in _ids(conf):
        c = conf[i]
        fresh = c.get("combined", {}).get("verdict", c.get("verdict", "—"))
        per = ", ".join(f"{k}: {v}" for k, v in c.get("combined", {}).get("per_seed", {}).items())
        r = results.get(i, {})
        here = r.get("combined", {}).get("verdict", r.get("verdict", "—"))
        rows.append([i, per or c.get("verdict", "—"), fresh, here, "yes" if fresh == here else "**no**"])
    return rows


_CONF_INTRO = ("Rules that were chosen or changed after looking at data were rewritten once and committed, with a "
               "set of fresh seeds, before this run (docs/preregistration.md). Every check, run on those seeds "
               "at the same preset: a rule that fails there says so; nothing was re-tuned on them.")


def write_reports(results: dict, outdir: str | Path) -> None:
    """Write ``report.md`` and ``report.html`` into ``outdir`` (atomic), with the fresh-seed confirmation
    table when ``outdir/confirmation/results.json`` exists."""
    outdir = Path(outdir)
    conf = _confirmation(outdir)
    md, page = _md(results, conf), _html(results, conf)
    if conf and any(k != "meta" for k in conf):
        rows = confirmation_rows(results, conf)
        seeds = ", ".join(map(str, conf.get("meta", {}).get("seeds", [])))
        md += "\n".join(["", "## Fresh-seed confirmation of the pre-registered rules", "", _CONF_INTRO, "",
                         f"Fresh seeds {seeds}, preset {conf.get('meta', {}).get('preset', '?')}.", "",
                         "| id | verdict per fresh seed | combined (fresh) | combined (this report) | same |",
                         "|---|---|---|---|---|"] + ["| " + " | ".join(r) + " |" for r in rows]) + "\n"
        e = html.escape
        table = "".join("<tr>" + "".join(f"<td>{e(x.replace('**', ''))}</td>" for x in r) + "</tr>" for r in rows)
        page = page.replace("</body></html>", (
            f"<section id='confirmation'><h2>Fresh-seed confirmation of the pre-registered rules</h2><p>{e(_CONF_INTRO)}</p>"
            f"<p class='m'>Fresh seeds {e(seeds)}.</p><table><tr><th>id</th><th>verdict per fresh seed</th>"
            f"<th>combined (fresh)</th><th>combined (this report)</th><th>same</th></tr>{table}</table></section>"
            "</body></html>"))
    atomic_write_text(outdir / "report.md", md)
    atomic_write_text(outdir / "report.html", page)


def attack_line(summary: dict, verdict: str | None = None) -> str:
    """The report-card reading of an attack: "holds; no counterexample in 120 s of search, closest margin 0.31"."""
    strength = (f"{summary['elapsed_s']:.0f} s of search (budget {summary['budget_s']:g} s, {summary['restarts']} "
                f"restarts, {summary['evaluations']} evaluations)")
    head = f"{verdict}; " if verdict else ""
    if summary["counterexample"]:
        return (f"{head}COUNTEREXAMPLE to {summary['claim']!r} found in {strength}: margin "
                f"{summary['smallest_margin']:.4g} {summary['at']}; saved to {summary['saved']}")
    return f"{head}no counterexample in {strength}, closest margin {summary['smallest_margin']:.4g} {summary['at']}"
