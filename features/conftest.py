"""Fixtures and hooks for the policy scenarios (政策场景).

The rules directory under test is read from the environment variable
BENEFITS_RULES (set by `benefits scenarios --rules DIR`); unset, the shipped
rules/ are used. BENEFITS_REFORM (`--reform FILE`) names a reform applied to
those rules (benefits.policy).
"""
from __future__ import annotations

import os

import pytest
from pytest_bdd.exceptions import StepDefinitionNotFoundError

from benefits.engine import RulebookError, default_engine
from benefits.engine.columnar import ColumnarEngine
from features.steps.applicant import *  # noqa: F401,F403  (step fixtures)
from features.steps.base import CATALOGUE, catalogue_text
from features.steps.checks import *  # noqa: F401,F403
from features.steps.county import *  # noqa: F401,F403  (81号 county targets)
from features.steps.draft import Draft
from features.steps.estimate import *  # noqa: F401,F403  (测算)
from features.steps.evaluation import *  # noqa: F401,F403
from features.steps.evaluation import Outcome

RULES_ENV = "BENEFITS_RULES"
REFORM_ENV = "BENEFITS_REFORM"


ENGINE_ENV = "BENEFITS_ENGINE"      # durable | columnar; unset: every scenario on both
BACK_ENDS = ("durable", "columnar")


class ColumnarBackEnd:
    """The columnar engine behind the steps' engine interface. The 三（一）
    county budgets are parameter arithmetic that neither back end evaluates."""

    def __init__(self, durable):
        self.rulebook = durable.rulebook
        self.county_budgets = durable.county_budgets
        self._columnar = ColumnarEngine(durable.rulebook)

    def evaluate(self, data, as_of=None):
        return self._columnar.evaluate(data, as_of)


def pytest_generate_tests(metafunc):
    if "back_end" in metafunc.fixturenames:
        chosen = os.environ.get(ENGINE_ENV)
        metafunc.parametrize("back_end", [chosen] if chosen else list(BACK_ENDS), scope="session")


@pytest.fixture(scope="session", autouse=True)
def back_end(request):
    """Which engine the scenario runs on (autouse, so the parametrisation
    reaches steps that ask for ``engine`` only at run time)."""
    return request.param


@pytest.fixture(scope="session")
def durable_engine():
    rules_dir = os.environ.get(RULES_ENV) or None
    reform = os.environ.get(REFORM_ENV) or None
    try:
        if reform is None:
            engine = default_engine(rules_dir)
        else:       # its own durable session, closed at the end
            from benefits.engine import Engine, load_rulebook
            from benefits.policy import apply_reform, load_reform
            engine = Engine(rulebook=apply_reform(load_rulebook(rules_dir), load_reform(reform)))
    except RulebookError as exc:
        pytest.exit(f"规则文件错误（{rules_dir or '项目内 rules/'}）：{exc}", returncode=3)
    yield engine
    if reform is not None:
        engine.close()


@pytest.fixture(scope="session")
def engine(durable_engine, back_end):
    """Each scenario runs on the durable_rules engine and on the columnar one."""
    return durable_engine if back_end == "durable" else ColumnarBackEnd(durable_engine)


@pytest.fixture
def draft():
    return Draft()


@pytest.fixture
def outcome():
    return Outcome()


class UnknownStep(StepDefinitionNotFoundError):
    """A step no definition matches; the message lists every step that exists."""


def pytest_bdd_step_func_lookup_error(request, feature, scenario, step, exception):
    raise UnknownStep(
        f"没有与这一步匹配的步骤定义：{step.keyword}{step.name}\n"
        f"（{feature.rel_filename} 第{step.line_number}行，场景「{scenario.name}」）\n"
        f"可用的步骤如下（{{ }}为可替换部分，[ ]为可省略部分）：\n{catalogue_text()}")


class AmbiguousStep(Exception):
    """A step text that more than one definition matches."""


_KINDS = {"given": "假如", "when": "当", "then": "那么"}


def pytest_bdd_before_step(request, feature, scenario, step, step_func):
    # pytest-bdd would silently run one of several matching definitions
    matching = [d.pattern for d in CATALOGUE if d.kind == _KINDS.get(step.type) and d.parser.is_matching(step.name)]
    if len(matching) > 1:
        raise AmbiguousStep(
            f"这一步同时匹配多个步骤定义，无法确定含义：{step.keyword}{step.name}\n  " + "\n  ".join(matching))
