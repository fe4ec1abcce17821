"""The one YAML loader of the project (安全读取 YAML): rule files
(``rules/*.yaml``, ``rules/parameters/``), reform files and reform folders,
floors (``rules/floors/``), targets (``rules/targets/``) all come through
``parse``. What a hostile file can do is bounded before anything is built:

- a file over ``MAX_BYTES`` is not read;
- anchors and aliases (``&a`` / ``*a``: a "billion laughs" file, or shared
  nodes that a later edit would change twice) are refused;
- nesting deeper than ``MAX_DEPTH`` (``[[[[…`` 100,000 deep) is refused while
  the document is composed, before any recursive step can overflow;
- more than ``MAX_NODES`` nodes are refused;
- a mapping key written twice is an error (YAML's own rule; PyYAML would keep
  the last silently), and so is a key that is not a plain scalar;
- an impossible date (2013-02-30) is an error with its line.

Every error is ``file:line：原因`` in Chinese, raised as the caller's error
class (RulebookError for rules, PolicyFileError for reforms and floors …).
``Lines`` maps a path into the document back to its line, for the errors the
callers raise when they validate the data.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import yaml
from yaml.events import AliasEvent

MAX_BYTES = 256 * 1024
"""A YAML file's size (the largest shipped, rules/targets/81-targets.yaml, is ~24 KB)."""
MAX_NODES = 20_000
"""Scalars, lists and mappings in one file (81-targets.yaml has ~3,000)."""
MAX_DEPTH = 32
"""Nesting of lists and mappings (the rule files need 6)."""


class YamlFileError(ValueError):
    """A YAML file refused by ``parse``: ``file:line：原因``."""


class YamlLoader(yaml.SafeLoader):
    """safe_load with the bounds above; an impossible date (2013-02-30) is a
    YAML error with its line, not a ValueError from inside the constructor."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"impossible date {node.value!r} ({exc})", node.start_mark) from None

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused(event.start_mark, "不支持 YAML 锚点和别名（&、*），请把内容直接写出")
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _Refused(event.start_mark, f"文件条目过多（上限 {MAX_NODES:,} 个）")
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Refused(event.start_mark, f"嵌套过深（上限 {MAX_DEPTH} 层）")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_mapping_node(self, anchor):
        node = super().compose_mapping_node(anchor)
        seen: dict = {}
        for key, _ in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise _Refused(key.start_mark, "映射的键应为文字或数字")
            name = (key.tag, key.value)
            if name in seen:
                raise _Refused(key.start_mark, f"键“{key.value}”重复（第 {seen[name]} 行已写过）；"
                                               f"同一映射中每个键只能写一次")
            seen[name] = key.start_mark.line + 1
        return node


YamlLoader.add_constructor("tag:yaml.org,2002:timestamp", YamlLoader.construct_yaml_timestamp)
# 1e3, -1e18: a number, as YAML 1.2 reads it (PyYAML's YAML 1.1 wants a dot,
# and would hand the string "1e308" on to be mistaken for text or parsed later)
YamlLoader.yaml_implicit_resolvers = {k: list(v) for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
YamlLoader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$"),
                                 list("-+0123456789"))


class _Refused(Exception):
    def __init__(self, mark, message: str):
        super().__init__(message)
        self.line = mark.line + 1 if mark is not None else 1
        self.message = message


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


def parse(text: str | bytes, where: str, error: type[Exception] = YamlFileError,
          max_bytes: int = MAX_BYTES) -> tuple[object, Lines]:
    """(data, lines) of one YAML document; ``error("file:line：原因")`` otherwise."""
    size = len(text.encode() if isinstance(text, str) else text)
    if size > max_bytes:
        raise error(f"{where}:1：文件过大（{size:,} 字节，上限 {max_bytes:,} 字节），未读取")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise error(f"{where}:1：不是 UTF-8 编码的文本（第 {exc.start} 字节）") from None
    loader = YamlLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except _Refused as exc:
        raise error(f"{where}:{exc.line}：{exc.message}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        if problem.startswith("impossible date"):
            raise error(f"{where}:{line}：日期不存在：{problem.split(chr(39))[1]}") from None
        raise error(f"{where}:{line}：不是有效的 YAML（{problem}）") from None
    except RecursionError:      # not expected below MAX_DEPTH: a last guard, still a clear error
        raise error(f"{where}:1：嵌套过深") from None
    finally:
        loader.dispose()
    return data, Lines(node, where)
