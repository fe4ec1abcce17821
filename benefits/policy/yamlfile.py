"""Reading a small YAML file with the line of every value (改革方案、底线文件),
so that an error says ``file:line`` in Chinese. Uses the rulebook's loader
(an impossible date is a YAML error with its line); refuses files that are
too large, anchors/aliases (a "billion laughs" file) and too many nodes.
"""
from __future__ import annotations

from dataclasses import dataclass

import yaml
from pydantic import ValidationError

from ..engine.rulebook import RulebookError, YamlLoader

MAX_BYTES = 256 * 1024
MAX_NODES = 20_000


class PolicyFileError(RulebookError):
    """A reform or floors file that cannot be used: ``file:line：原因``."""


@dataclass
class Lines:
    """The composed YAML node tree: ``line(path)`` is the 1-based line of the
    deepest node the path reaches (keys of mappings, indices of lists)."""
    node: yaml.Node | None
    where: str

    def line(self, path=()) -> int:
        node = self.node
        if node is None:
            return 1
        line = node.start_mark.line + 1
        for key in path:
            if isinstance(node, yaml.MappingNode):
                # a key's own line (a block value starts on the next one)
                pair = next(((k, v) for k, v in node.value if k.value == str(key)), None)
                if pair is None:
                    break
                line, node = pair[0].start_mark.line + 1, pair[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
                node = node.value[key]
                line = node.start_mark.line + 1
            else:
                break
        return line

    def error(self, path, message: str) -> PolicyFileError:
        return PolicyFileError(f"{self.where}:{self.line(path)}：{message}")


class _Alias(Exception):
    def __init__(self, node: yaml.Node):
        self.line = node.start_mark.line + 1


def _count(node: yaml.Node, seen: set) -> None:
    if id(node) in seen:
        raise _Alias(node)
    seen.add(id(node))
    if len(seen) > MAX_NODES:
        raise OverflowError
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            _count(k, seen)
            _count(v, seen)
    elif isinstance(node, yaml.SequenceNode):
        for v in node.value:
            _count(v, seen)


def parse(text: str | bytes, where: str) -> tuple[object, Lines]:
    """(data, lines) of a YAML document; PolicyFileError with file:line."""
    size = len(text.encode() if isinstance(text, str) else text)
    if size > MAX_BYTES:
        raise PolicyFileError(f"{where}:1：文件过大（{size:,} 字节，上限 {MAX_BYTES:,} 字节），未读取")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PolicyFileError(f"{where}:1：不是 UTF-8 编码的文本（第 {exc.start} 字节）") from None
    loader = YamlLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            try:
                _count(node, set())
            except _Alias as alias:
                raise PolicyFileError(f"{where}:{alias.line}：不支持 YAML 锚点和别名（&、*），"
                                      f"请把内容直接写出") from None
            except OverflowError:
                raise PolicyFileError(f"{where}:1：文件条目过多（上限 {MAX_NODES:,} 个）") from None
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        if problem.startswith("impossible date"):
            raise PolicyFileError(f"{where}:{line}：日期不存在：{problem.split(chr(39))[1]}") from None
        raise PolicyFileError(f"{where}:{line}：不是有效的 YAML（{problem}）") from None
    except RecursionError:
        raise PolicyFileError(f"{where}:1：嵌套过深，不是有效的改革方案") from None
    finally:
        loader.dispose()
    return data, Lines(node, where)


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
        if kind == "literal_error":
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
