"""The audit's chart (核对结果图): per county, the yuan a month of each
finding kind (漏保 owed, 错保 and 重复发放 paid, 差额 |实发−应发|), as a PNG.
Chinese labels with the CJK font the estimate's chart finds, English
otherwise, so the chart never shows empty boxes."""
from __future__ import annotations

from matplotlib import font_manager
from matplotlib.figure import Figure

from ..caseload import atomic_output
from ..engine.identity import county_name
from ..finance.chart import cjk_font
from .findings import DIFFERENCE, DUPLICATE, MISSED, NOT_IN_CASELOAD, WRONG

_KINDS = ((MISSED, "missed (owed)", "#c44e52"), (WRONG, "paid, ineligible", "#dd8452"),
          (DIFFERENCE, "paid ≠ owed", "#4c72b0"), (DUPLICATE, "paid twice", "#8172b3"),
          (NOT_IN_CASELOAD, "not in caseload", "#937860"))
_EN = {"411202": "Hubin", "411203": "Shanzhou", "411221": "Mianchi", "411224": "Lushi", "411281": "Yima",
       "411282": "Lingbao", "": "(none)"}


def audit_chart(audit, path) -> bool:
    """Write the chart to ``path`` (atomically); True if the labels are Chinese."""
    font = cjk_font()
    figure = chart_figure(audit, font)
    with atomic_output(path) as partial:
        figure.savefig(partial, format="png")
    return bool(font)


def chart_figure(audit, font) -> Figure:
    summary = audit.summary
    counties = sorted(set(summary["county"].to_list()), key=lambda c: (c == "", c))
    names = [(county_name(c, audit.as_of) or "（未填）") if font else _EN.get(c, c) for c in counties]
    figure = Figure(figsize=(9, 5.4), dpi=100)
    figure.subplots_adjust(bottom=0.16)
    ax = figure.add_subplot()
    width = 0.8 / len(_KINDS)
    for i, (kind, english, colour) in enumerate(_KINDS):
        rows = {c: 0.0 for c in counties}
        for county, _, k, _, month, _ in summary.iter_rows():
            if k == kind:
                rows[county] += abs(month) / 100
        ax.bar([x + i * width - 0.4 + width / 2 for x in range(len(counties))], [rows[c] for c in counties],
               width=width, label=kind if font else english, color=colour)
    ax.set_xticks(range(len(counties)))
    ax.set_xticklabels(names)
    props = {"family": font} if font else {}
    title = (f"名册核对 核对日 {audit.as_of}：各县区发现金额（元/月）" if font
             else f"Roll audit on {audit.as_of}: yuan a month by county and finding")
    ax.set_title(title, fontdict=props)
    ax.set_ylabel("元/月" if font else "yuan a month", fontdict=props)
    for label in ax.get_xticklabels():
        if font:
            label.set_fontfamily(font)
    ax.legend(prop=font_manager.FontProperties(family=font) if font else None)
    ax.text(0.01, 0.98, ("规则版本 " if font else "rulebook ") + audit.rulebook_version, transform=ax.transAxes,
            va="top", fontsize=7, color="grey", **props)
    return figure
