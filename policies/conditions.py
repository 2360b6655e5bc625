"""The safe condition language of policies: rule-engine syntax, checked fields and types, no eval.

A condition is text such as ``industry_section == "J" and area_m2 >= 300``. It is parsed by the
`rule-engine` library (a real tokenizer and grammar, never Python ``eval``), then checked here against
the fields an applicant profile, an offer and a building expose, and compiled to a small tree that
evaluates on plain values (one applicant, one building) or on numpy columns (many buildings at once),
and explains in Chinese and English why it failed. This module imports no Django.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import rule_engine
from rule_engine import ast as re_ast
from rule_engine import errors as re_errors

NUMBER = "number"
TEXT = "text"
BOOLEAN = "boolean"

# Where a field's value comes from: the applicant, the offer, or the building. Profile and offer
# fields are one value per evaluation; building fields vary from building to building.
PROFILE = "profile"
OFFER = "offer"
BUILDING = "building"


@dataclass(frozen=True)
class Field:
    """One name a condition may use."""

    name: str
    kind: str
    source: str
    label_zh: str
    label_en: str


FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("industry_section", TEXT, PROFILE, "行业门类", "industry section"),
        Field("industry_division", TEXT, PROFILE, "行业大类", "industry division"),
        Field("area_m2", NUMBER, OFFER, "租用面积(㎡)", "area taken (m²)"),
        Field("expected_annual_tax", NUMBER, PROFILE, "预计年纳税(元)", "expected annual tax"),
        Field("expected_tax_per_m2", NUMBER, OFFER, "预计每平方米税收(元)", "expected tax per m²"),
        Field("employees", NUMBER, PROFILE, "员工人数", "headcount"),
        Field("is_headquarters", BOOLEAN, PROFILE, "总部企业", "headquarters"),
        Field("registers_in_district", BOOLEAN, PROFILE, "在区内注册", "registers in the district"),
        Field("settles_in_district", BOOLEAN, PROFILE, "在区内结算", "settles in the district"),
        Field("pays_tax_in_district", BOOLEAN, PROFILE, "在区内纳税", "pays tax in the district"),
        Field("star_rating", NUMBER, BUILDING, "楼宇星级", "building star rating"),
        Field("featured_type", TEXT, BUILDING, "特色楼宇类型", "featured type"),
        Field("street", TEXT, BUILDING, "所属镇街", "street"),
        Field("business_circle", TEXT, BUILDING, "所属商圈", "business circle"),
    )
}
FIELD_NAMES = tuple(FIELDS)
BUILDING_FIELDS = frozenset(name for name, f in FIELDS.items() if f.source == BUILDING)

_KIND_ZH = {NUMBER: "数字", TEXT: "文本", BOOLEAN: "是/否"}
_KIND_EN = {NUMBER: "a number", TEXT: "text", BOOLEAN: "true/false"}


class ConditionError(ValueError):
    """A condition that cannot be accepted; `message` is bilingual, `position` 0-based when known."""

    def __init__(self, zh: str, en: str, position: int | None = None) -> None:
        self.zh, self.en, self.position = zh, en, position
        super().__init__(f"{zh} / {en}")

    @property
    def message(self) -> str:
        return str(self)


# ---------------------------------------------------------------- formatting


def format_number(value: float) -> str:
    """3000000 -> '3,000,000'; 2.5 -> '2.5'; used in explanations and arithmetic."""
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _show(value: Any, kind: str) -> tuple[str, str]:
    if kind == BOOLEAN:
        return ("是", "yes") if value else ("否", "no")
    if kind == NUMBER:
        text = format_number(float(value))
        return text, text
    if value == "" or value is None:
        return "(无)", "(none)"
    return str(value), str(value)


# ---------------------------------------------------------------- the compiled tree

_OPS: dict[str, tuple[Callable[[Any, Any], Any], str, str]] = {
    "eq": (lambda a, b: a == b, "=", "≠"),
    "ne": (lambda a, b: a != b, "≠", "="),
    "lt": (lambda a, b: a < b, "<", "≥"),
    "le": (lambda a, b: a <= b, "≤", ">"),
    "gt": (lambda a, b: a > b, ">", "≤"),
    "ge": (lambda a, b: a >= b, "≥", "<"),
}
# Flipping `5 <= x` into `x >= 5` keeps the field on the left of every comparison.
_FLIPPED = {"eq": "eq", "ne": "ne", "lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}


class _Node:
    def test(self, env: Mapping[str, Any]) -> bool:
        raise NotImplementedError

    def test_many(self, env: Mapping[str, Any], size: int) -> np.ndarray:
        raise NotImplementedError

    def reason(self, env: Mapping[str, Any]) -> tuple[str, str]:
        """Why this node came out as it did, for one applicant and one building."""
        raise NotImplementedError


def _broadcast(value: Any, size: int) -> np.ndarray:
    result = np.asarray(value, dtype=bool)
    return np.broadcast_to(result, (size,)) if result.ndim == 0 else result


@dataclass(frozen=True)
class _Const(_Node):
    value: bool

    def test(self, env: Mapping[str, Any]) -> bool:
        return self.value

    def test_many(self, env: Mapping[str, Any], size: int) -> np.ndarray:
        return np.full(size, self.value)

    def reason(self, env: Mapping[str, Any]) -> tuple[str, str]:
        return ("恒为真", "always true") if self.value else ("恒为假", "always false")


@dataclass(frozen=True)
class _Compare(_Node):
    field: Field
    op: str
    value: Any

    def test(self, env: Mapping[str, Any]) -> bool:
        return bool(_OPS[self.op][0](env[self.field.name], self.value))

    def test_many(self, env: Mapping[str, Any], size: int) -> np.ndarray:
        return _broadcast(_OPS[self.op][0](env[self.field.name], self.value), size)

    def reason(self, env: Mapping[str, Any]) -> tuple[str, str]:
        f = self.field
        actual_zh, actual_en = _show(env[f.name], f.kind)
        want_zh, want_en = _show(self.value, f.kind)
        _, holds_sign, fails_sign = _OPS[self.op]
        if self.test(env):
            return (
                f"{f.label_zh} {actual_zh} {holds_sign} {want_zh}",
                f"{f.label_en} {actual_en} {holds_sign} {want_en}",
            )
        if self.op in ("ge", "eq"):
            return (
                f"{f.label_zh} {actual_zh} {fails_sign} 要求 {want_zh}",
                f"{f.label_en} {actual_en} {fails_sign} required {want_en}",
            )
        if self.op == "le":
            return (
                f"{f.label_zh} {actual_zh} > 上限 {want_zh}",
                f"{f.label_en} {actual_en} > allowed {want_en}",
            )
        if self.op == "ne":
            return (
                f"{f.label_zh} {actual_zh} 为排除值",
                f"{f.label_en} {actual_en} is excluded",
            )
        more = self.op == "gt"
        return (
            f"{f.label_zh} {actual_zh} {fails_sign} {want_zh},要求{'大于' if more else '小于'} {want_zh}",
            f"{f.label_en} {actual_en} {fails_sign} {want_en}, required {'more' if more else 'less'}"
            f" than {want_en}",
        )


@dataclass(frozen=True)
class _In(_Node):
    field: Field
    values: frozenset[Any]

    def test(self, env: Mapping[str, Any]) -> bool:
        return env[self.field.name] in self.values

    def test_many(self, env: Mapping[str, Any], size: int) -> np.ndarray:
        column = env[self.field.name]
        if np.ndim(column) == 0:
            return np.full(size, column in self.values)
        return np.isin(column, list(self.values))

    def reason(self, env: Mapping[str, Any]) -> tuple[str, str]:
        f = self.field
        actual_zh, actual_en = _show(env[f.name], f.kind)
        listed = ", ".join(_show(v, f.kind)[1] for v in sorted(self.values))
        if self.test(env):
            return f"{f.label_zh} {actual_zh} 属于 {listed}", f"{f.label_en} {actual_en} is one of {listed}"
        return (
            f"{f.label_zh} {actual_zh} 不在 {listed} 之中",
            f"{f.label_en} {actual_en} is not one of {listed}",
        )


@dataclass(frozen=True)
class _Flag(_Node):
    field: Field

    def test(self, env: Mapping[str, Any]) -> bool:
        return bool(env[self.field.name])

    def test_many(self, env: Mapping[str, Any], size: int) -> np.ndarray:
        return _broadcast(env[self.field.name], size)

    def reason(self, env: Mapping[str, Any]) -> tuple[str, str]:
        f = self.field
        if self.test(env):
            return f"{f.label_zh}:是", f"{f.label_en}: yes"
        return f"{f.label_zh}:否(要求:是)", f"{f.label_en}: no (required: yes)"


@dataclass(frozen=True)
class _Not(_Node):
    item: _Node

    def test(self, env: Mapping[str, Any]) -> bool:
        return not self.item.test(env)

    def test_many(self, env: Mapping[str, Any], size: int) -> np.ndarray:
        return ~self.item.test_many(env, size)

    def reason(self, env: Mapping[str, Any]) -> tuple[str, str]:
        zh, en = self.item.reason(env)
        if self.test(env):
            return f"并非({zh})", f"not ({en})"
        return f"不允许:{zh}", f"not allowed: {en}"


@dataclass(frozen=True)
class _All(_Node):
    items: tuple[_Node, ...]

    def test(self, env: Mapping[str, Any]) -> bool:
        return all(item.test(env) for item in self.items)

    def test_many(self, env: Mapping[str, Any], size: int) -> np.ndarray:
        result = self.items[0].test_many(env, size)
        for item in self.items[1:]:
            result = result & item.test_many(env, size)
        return result

    def reason(self, env: Mapping[str, Any]) -> tuple[str, str]:
        for item in self.items:
            if not item.test(env):
                return item.reason(env)
        reasons = [item.reason(env) for item in self.items]
        return ";".join(r[0] for r in reasons), "; ".join(r[1] for r in reasons)


@dataclass(frozen=True)
class _Any(_Node):
    items: tuple[_Node, ...]

    def test(self, env: Mapping[str, Any]) -> bool:
        return any(item.test(env) for item in self.items)

    def test_many(self, env: Mapping[str, Any], size: int) -> np.ndarray:
        result = self.items[0].test_many(env, size)
        for item in self.items[1:]:
            result = result | item.test_many(env, size)
        return result

    def reason(self, env: Mapping[str, Any]) -> tuple[str, str]:
        for item in self.items:
            if item.test(env):
                return item.reason(env)
        reasons = [item.reason(env) for item in self.items]
        return (
            "以下均不满足:" + ";".join(r[0] for r in reasons),
            "none of these holds: " + "; ".join(r[1] for r in reasons),
        )


@dataclass(frozen=True)
class Condition:
    """A checked, compiled condition; empty text means "everyone"."""

    text: str
    root: _Node
    fields: frozenset[str]

    @property
    def always(self) -> bool:
        return isinstance(self.root, _Const) and self.root.value

    @property
    def varies_by_building(self) -> bool:
        return bool(self.fields & BUILDING_FIELDS)

    def test(self, env: Mapping[str, Any]) -> bool:
        """Whether the condition holds for one applicant, offer and building (plain values)."""
        return self.root.test(env)

    def test_many(self, env: Mapping[str, Any], size: int) -> np.ndarray:
        """The condition over `size` buildings: building fields are numpy columns, the rest scalars."""
        return self.root.test_many(env, size)

    def explain(self, env: Mapping[str, Any]) -> tuple[str, str] | None:
        """(Chinese, English) of why the condition fails, or None when it holds."""
        if self.root.test(env):
            return None
        return self.root.reason(env)


ALWAYS = Condition("", _Const(True), frozenset())


# ---------------------------------------------------------------- parsing and checking


def _unsupported(what_zh: str, what_en: str) -> ConditionError:
    return ConditionError(f"不支持的写法:{what_zh}", f"unsupported construct: {what_en}")


def _field(node: Any) -> Field:
    if isinstance(node, re_ast.SymbolExpression):
        if node.scope is not None:
            raise _unsupported(f"内置符号 ${node.name}", f"built-in symbol ${node.name}")
        field = FIELDS.get(node.name)
        if field is None:
            close = difflib.get_close_matches(node.name, FIELD_NAMES, n=1)
            hint_zh = f"(是否想写 {close[0]}?)" if close else ""
            hint_en = f" (did you mean {close[0]}?)" if close else ""
            allowed = ", ".join(FIELD_NAMES)
            raise ConditionError(
                f"未知字段 '{node.name}'{hint_zh};可用字段:{allowed}",
                f"unknown field '{node.name}'{hint_en}; allowed fields: {allowed}",
            )
        return field
    raise _unsupported("比较的一边必须是字段", "one side of a comparison must be a field")


def _literal(node: Any) -> tuple[str, Any]:
    if isinstance(node, re_ast.BooleanExpression):
        return BOOLEAN, bool(node.value)
    if isinstance(node, re_ast.FloatExpression):
        return NUMBER, float(node.value)
    if isinstance(node, re_ast.StringExpression):
        return TEXT, node.value
    if isinstance(node, re_ast.NullExpression):
        raise _unsupported("null", "null")
    raise _unsupported("比较的另一边必须是常量", "the other side of a comparison must be a constant")


def _literal_text(kind: str, value: Any) -> str:
    if kind == TEXT:
        return f'"{value}"'
    if kind == BOOLEAN:
        return "true" if value else "false"
    return format_number(value)


def _check_type(field: Field, kind: str, value: Any) -> None:
    if kind == field.kind:
        return
    hint_zh = hint_en = ""
    if field.kind == TEXT and kind == NUMBER:
        quoted = f'"{format_number(value)}"'
        hint_zh, hint_en = f",应写成 {quoted}", f"; write it as {quoted}"
    raise ConditionError(
        f"类型不符:{field.label_zh}({field.name})是{_KIND_ZH[field.kind]},"
        f"不能与{_KIND_ZH[kind]} {_literal_text(kind, value)} 比较{hint_zh}",
        f"type mismatch: {field.name} is {_KIND_EN[field.kind]} and cannot be compared with "
        f"{_KIND_EN[kind]} {_literal_text(kind, value)}{hint_en}",
    )


def _check_known(field: Field, value: Any, known: Mapping[str, Iterable[str]]) -> None:
    allowed = known.get(field.name)
    if allowed is None:
        return
    allowed = set(allowed)
    if value not in allowed:
        listed = ", ".join(sorted(allowed)[:40]) + (" …" if len(allowed) > 40 else "")
        raise ConditionError(
            f'{field.label_zh}({field.name})没有取值 "{value}";可选:{listed}',
            f'{field.name} has no value "{value}"; allowed: {listed}',
        )


_ARITHMETIC = (
    re_ast.AddExpression,
    re_ast.SubtractExpression,
    re_ast.ArithmeticExpression,
    re_ast.BitwiseExpression,
    re_ast.BitwiseShiftExpression,
)


def _build(node: Any, known: Mapping[str, Iterable[str]]) -> _Node:
    if isinstance(node, re_ast.BooleanExpression):
        return _Const(bool(node.value))
    if isinstance(node, re_ast.LogicExpression):
        left, right = _build(node.left, known), _build(node.right, known)
        cls = _All if node.type == "and" else _Any
        items: list[_Node] = []
        for part in (left, right):
            items.extend(part.items if isinstance(part, cls) else (part,))
        return cls(tuple(items))
    if isinstance(node, re_ast.UnaryExpression):
        if node.type == "not":
            return _Not(_build(node.right, known))
        raise _unsupported("算术运算", "arithmetic")
    if isinstance(node, re_ast.SymbolExpression):
        field = _field(node)
        if field.kind != BOOLEAN:
            raise ConditionError(
                f"字段 {field.name} 是{_KIND_ZH[field.kind]},单独使用时须与某个值比较",
                f"{field.name} is {_KIND_EN[field.kind]}: compare it with a value, it is not a condition"
                " by itself",
            )
        return _Flag(field)
    if isinstance(node, re_ast.FuzzyComparisonExpression):
        raise _unsupported("正则匹配 =~", "regular expression =~")
    if isinstance(node, re_ast.ComparisonExpression | re_ast.ArithmeticComparisonExpression):
        for side in (node.left, node.right):
            if isinstance(side, _ARITHMETIC):
                raise _unsupported("算术运算", "arithmetic")
        op = node.type
        if op not in _OPS:
            raise _unsupported(f"运算符 {op}", f"operator {op}")
        left, right = node.left, node.right
        if not isinstance(left, re_ast.SymbolExpression):
            left, right, op = right, left, _FLIPPED[op]
        field = _field(left)
        if isinstance(right, re_ast.SymbolExpression):
            raise _unsupported("两个字段相互比较", "comparing two fields")
        kind, value = _literal(right)
        _check_type(field, kind, value)
        if field.kind == BOOLEAN and op not in ("eq", "ne"):
            raise ConditionError(
                f"{field.name} 是/否字段只能用 == 或 != 比较", f"{field.name} is true/false: use == or !="
            )
        if op in ("eq", "ne"):
            _check_known(field, value, known)
        return _Compare(field, op, value)
    if isinstance(node, re_ast.ContainsExpression):
        field = _field(node.member)
        container = node.container
        if not isinstance(container, re_ast.ArrayExpression | re_ast.SetExpression):
            raise _unsupported(
                "in 的右边须是 [值, 值] 列表", 'the right of "in" must be a list [value, value]'
            )
        values = []
        for item in container.value:
            kind, value = _literal(item)
            _check_type(field, kind, value)
            _check_known(field, value, known)
            values.append(value)
        return _In(field, frozenset(values))
    if isinstance(node, _ARITHMETIC):
        raise _unsupported("算术运算", "arithmetic")
    name = type(node).__name__.replace("Expression", "").lower()
    raise _unsupported(name, name)


def _fields_of(node: _Node) -> set[str]:
    if isinstance(node, _Compare | _In | _Flag):
        return {node.field.name}
    if isinstance(node, _Not):
        return _fields_of(node.item)
    if isinstance(node, _All | _Any):
        return set().union(*(_fields_of(item) for item in node.items))
    return set()


def _syntax_error(text: str, error: re_errors.RuleSyntaxError) -> ConditionError:
    token = error.token
    if token is None:
        return ConditionError(
            "条件语法错误:表达式在结尾处不完整",
            "condition syntax error: the expression is incomplete at the end",
            position=len(text),
        )
    position = int(token.lexpos)
    shown = str(token.value)[:20]
    return ConditionError(
        f"条件语法错误:第 {position + 1} 个字符处 '{shown}'",
        f"condition syntax error at character {position + 1}: '{shown}'",
        position=position,
    )


def parse_condition(text: str, *, known_values: Mapping[str, Iterable[str]] | None = None) -> Condition:
    """Check and compile a condition; raise ConditionError naming the problem.

    `known_values` maps text fields to the values they may take (industry codes, featured types,
    street names...), so that a misspelt value is refused rather than silently never matching.
    """
    text = (text or "").strip()
    if not text:
        return ALWAYS
    if known_values:
        return _compile(text, known_values)
    return _compile_cached(text)


def _compile(text: str, known: Mapping[str, Iterable[str]]) -> Condition:
    try:
        rule = rule_engine.Rule(text, context=_CONTEXT)
    except re_errors.RuleSyntaxError as error:
        raise _syntax_error(text, error) from None
    except re_errors.EngineError as error:
        raise ConditionError(f"条件无效:{error.message}", f"invalid condition: {error.message}") from None
    root = _build(rule.statement.expression, known)
    return Condition(text, root, frozenset(_fields_of(root)))


@functools.lru_cache(maxsize=4096)
def _compile_cached(text: str) -> Condition:
    # Conditions are immutable, and many policies share one text: parse each text once per process.
    return _compile(text, {})


# No type resolver: rule-engine parses, and this module checks fields and types with its own messages.
_CONTEXT = rule_engine.Context()
