"""Reading a reform or floors file (改革方案、底线文件) with the line of every
value, so that an error says ``file:line`` in Chinese: the project's one YAML
loader (benefits/engine/yamlfile.py: size, anchors, depth, nodes, duplicate
keys), and pydantic's errors said in Chinese.
"""
from __future__ import annotations

from pydantic import ValidationError

from ..engine.rulebook import RulebookError
from ..engine.yamlfile import Lines, parse as _parse


class PolicyFileError(RulebookError):
    """A reform or floors file that cannot be used: ``file:line：原因``."""


def parse(text: str | bytes, where: str) -> tuple[object, Lines]:
    """(data, lines) of a YAML document (the project's one loader,
    benefits/engine/yamlfile.py); PolicyFileError with file:line."""
    return _parse(text, where, PolicyFileError)


_TYPES = {
    "missing": "缺少必填项",
    "extra_forbidden": "不认识的字段（请检查拼写）",
    "string_type": "应为文字",
    "bool_type": "应为 true 或 false", "bool_parsing": "应为 true 或 false",
    "int_type": "应为整数", "int_parsing": "应为整数", "int_from_float": "应为整数",
    "float_type": "应为数字", "float_parsing": "应为数字",
    "date_type": "应为日期（如 2013-01-01）", "date_parsing": "应为日期（如 2013-01-01）",
    "date_from_datetime_parsing": "应为日期（如 2013-01-01）",
    "date_from_datetime_inexact": "应为日期（如 2013-01-01），不带时刻",
    "list_type": "应为列表", "dict_type": "应为映射（键: 值）", "model_type": "应为映射（键: 值）",
    "too_short": "不能为空", "string_too_short": "太短",
    "string_pattern_mismatch": "格式不对", "literal_error": "取值不对",
    "greater_than_equal": "太小", "less_than_equal": "太大",
}


def explain(exc: ValidationError) -> list[tuple[tuple, str]]:
    """pydantic errors as (location, 中文说明); the English detail is kept
    in brackets where it names something the Chinese does not."""
    out = []
    for error in exc.errors():
        kind, loc = error["type"], tuple(error["loc"])
        # unions report one error per branch: the location without the branch name
        branches = ("int", "float", "str", "bool")
        short = tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p in branches)))
        text = _TYPES.get(kind)
        if short != loc and kind != "missing":
            text = f"类型不对（{error.get('input')!r} 不是数字，也不是映射）"
        loc = short
        if kind == "benefits":          # the rulebook's own Chinese message (PydanticCustomError)
            text = error["msg"]
        elif kind == "literal_error":
            text = f"取值不对，只能是 {error.get('ctx', {}).get('expected', '')}"
        elif text is None or kind == "value_error":
            text = f"不符合规则文件的要求（{error['msg'].removeprefix('Value error, ')}）"
        out.append((loc, text))
    # a union of types fails once per branch: say it once per place
    seen, unique = set(), []
    for loc, text in out:
        if loc not in seen:
            seen.add(loc)
            unique.append((loc, text))
    return unique
