"""Cost by county stacked by payer (按县区、出资方的测算图), as a PNG.

Chinese labels when a CJK font (e.g. Debian's fonts-noto-cjk) is installed,
English otherwise, so the chart never shows empty boxes.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from .labels import COUNTY_EN, PAYER_EN, PAYER_ZH  # noqa: E402
from .writers import atomic_output  # noqa: E402

_PAYERS = ("city", "county", "unspecified")
_COLOURS = {"city": "#4c72b0", "county": "#55a868", "unspecified": "#c44e52"}


def cjk_font() -> str | None:
    names = sorted({f.name for f in font_manager.fontManager.ttflist if "CJK SC" in f.name})
    return next((n for n in names if "Sans" in n), names[0] if names else None)


def county_chart(result: dict, path) -> bool:
    """Write the chart to ``path``; returns True if the labels are Chinese."""
    font = cjk_font()
    counties = result["counties"]
    if font:
        names = [c["county_zh"] for c in counties]
        payer_label = PAYER_ZH
        title = f"{result['year']}年度救助资金测算（中值）：按县区、出资方"
        ylabel = "万元"
    else:
        names = [COUNTY_EN.get(c["county"], c["county"]) for c in counties]
        payer_label = PAYER_EN
        title = f"Estimated cost {result['year']} (mid) by county and payer"
        ylabel = "10,000 yuan"
    figure = Figure(figsize=(9, 5.4), dpi=100)
    figure.subplots_adjust(bottom=0.14)
    ax = figure.add_subplot()
    bottom = [0.0] * len(counties)
    for payer in _PAYERS:
        heights = [c["payers"][payer]["mid"] / 10_000 for c in counties]
        ax.bar(names, heights, bottom=bottom, label=payer_label[payer], color=_COLOURS[payer])
        bottom = [b + h for b, h in zip(bottom, heights)]
    props = {"family": font} if font else {}
    ax.set_title(title, fontdict=props)
    ax.set_ylabel(ylabel, fontdict=props)
    for label in ax.get_xticklabels():
        if font:
            label.set_fontfamily(font)
    ax.legend(prop=font_manager.FontProperties(family=font) if font else None)
    unverified = ", ".join(p["name"] for p in result["parameters"] if not p["verified"])
    version = ("规则版本 " if font else "rulebook ") + result["rulebook_version"]
    ax.text(0.01, 0.98, version, transform=ax.transAxes, va="top", fontsize=7, color="grey", **props)
    if unverified:
        note = "未核实参数（示例值）" if font else "unverified parameters (examples)"
        figure.text(0.01, 0.01, f"{note}: {unverified}", fontsize=7, color="grey", **props)
    with atomic_output(path) as partial:
        figure.savefig(partial, format="png")
    return bool(font)
