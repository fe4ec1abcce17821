"""Cost by county stacked by payer (按县区、出资方的测算图), as a PNG.

Chinese labels when a CJK font (e.g. Debian's fonts-noto-cjk or
fonts-wqy-zenhei) is installed, English otherwise, so the chart never shows
empty boxes.
"""
from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["axes.unicode_minus"] = False     # CJK fonts often lack U+2212 (the axis minus sign)
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ..engine.vocabulary import PAYERS
from ..caseload import atomic_output  # noqa: E402
from .labels import PAYER_EN, PAYER_ZH, county_en, county_wan  # noqa: E402

# "Failed to find font weight normal" for a medium-only font (WenQuanYi): not the user's concern
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)

_COLOURS = {"city": "#4c72b0", "county": "#55a868", "unspecified": "#c44e52"}


# Font families with the Chinese characters, best first.
_CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans CJK", "WenQuanYi Zen Hei",
                 "WenQuanYi Micro Hei", "Noto Serif CJK SC", "Droid Sans Fallback", "AR PL UMing")
# Where Debian's packages put them: matplotlib's font cache, built before a
# font package was installed, does not list them until they are added.
_CJK_FILES = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
              "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
              "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
              "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
              "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
              "/usr/share/fonts/truetype/arphic/uming.ttc")


def _best_cjk() -> str | None:
    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for family in _CJK_FAMILIES for n in sorted(names) if n.startswith(family)), None)


def cjk_font() -> str | None:
    """The name of an installed font family with Chinese characters, or None."""
    found = _best_cjk()
    if found:
        return found
    for path in _CJK_FILES:
        if Path(path).is_file():
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
    return _best_cjk()


def county_chart(result: dict, path) -> bool:
    """Write the chart to ``path``; returns True if the labels are Chinese."""
    font = cjk_font()
    figure = chart_figure(result, font)
    with atomic_output(path) as partial:
        figure.savefig(partial, format="png")
    return bool(font)


def chart_figure(result: dict, font: str | None) -> Figure:
    """The chart, labelled in Chinese with ``font``, or in English without one."""
    counties = result["counties"]
    if font:
        names = [c["county_zh"] for c in counties]
        payer_label = PAYER_ZH
        title = f"{result['year']}年度救助资金测算（中值，万元）：按县区、出资方"
        ylabel = "万元"
    else:
        names = [county_en(c["county"], result["year"]) for c in counties]
        payer_label = PAYER_EN
        title = f"Estimated cost {result['year']} (mid, 10,000 yuan) by county and payer"
        ylabel = "10,000 yuan"
    figure = Figure(figsize=(9, 5.4), dpi=100)
    figure.subplots_adjust(bottom=0.16)
    ax = figure.add_subplot()
    # the figures of the workbook's 图表 table: 万元, each county's payers adding up to its total
    figures = county_wan(result)
    bottom = [0.0] * len(counties)
    for payer in PAYERS:
        heights = [parts[payer] for _, parts, _ in figures]
        ax.bar(names, heights, bottom=bottom, label=payer_label[payer], color=_COLOURS[payer])
        bottom = [b + h for b, h in zip(bottom, heights)]
    for index, (_, _, total) in enumerate(figures):    # each county's total above its bar
        ax.text(index, total, f"{total:,.2f}", ha="center", va="bottom", fontsize=8)
    props = {"family": font} if font else {}
    ax.set_title(title, fontdict=props)
    ax.set_ylabel(ylabel, fontdict=props)
    for label in ax.get_xticklabels():
        if font:
            label.set_fontfamily(font)
    ax.legend(prop=font_manager.FontProperties(family=font) if font else None)
    unverified = ("、" if font else ", ").join(p["label_zh"] if font else p["name"]
                                              for p in result["parameters"] if not p["verified"])
    version = ("规则版本 " if font else "rulebook ") + result["rulebook_version"]
    ax.text(0.01, 0.98, version, transform=ax.transAxes, va="top", fontsize=7, color="grey", **props)
    if unverified:
        note = "未核实参数（示例值）" if font else "unverified parameters (examples)"
        lines = textwrap.wrap(f"{note}{'：' if font else ': '}{unverified}", 80 if font else 160)
        figure.text(0.01, 0.01, "\n".join(lines), fontsize=7, color="grey", va="bottom", **props)
    return figure
