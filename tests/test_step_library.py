"""The Chinese step library: forgiving matching, and docs that list every step."""
from __future__ import annotations

from pathlib import Path

import pytest

import features.conftest  # noqa: F401  (registers every step)
from features.steps.base import CATALOGUE, Forgiving, norm, without_keyword

DOCS = Path(__file__).resolve().parents[1] / "docs" / "scenarios.md"


@pytest.mark.parametrize("text", ["持有二级肢体残疾人证", "持有 二级 肢体残疾人证", "持有２级肢体残疾人证"])
def test_spaces_and_full_width_digits_match(text):
    parser = Forgiving(r"持有(?P<grade>[一二三四1-4])级肢体残疾人证", "持有{等级}级肢体残疾人证")
    assert parser.is_matching(text)
    assert parser.parse_arguments(text)["grade"] in ("二", "2")


def test_full_width_punctuation_is_normalised():
    assert norm("家庭共２人， 月总收入３００元") == "家庭共2人,月总收入300元"


def test_a_different_text_does_not_match():
    parser = Forgiving(r"已纳入低保", "已纳入低保")
    assert not parser.is_matching("已纳入五保供养")


def test_every_step_is_documented_with_its_example():
    docs = DOCS.read_text(encoding="utf-8")
    assert len(CATALOGUE) >= 30
    missing = [d.pattern for d in CATALOGUE if d.pattern not in docs or d.example not in docs]
    assert missing == []


def test_every_example_matches_exactly_one_step_of_its_kind():
    # pytest-bdd would silently pick one of several matching steps
    for doc in CATALOGUE:
        text = without_keyword(doc.example)
        matching = [d.pattern for d in CATALOGUE if d.kind == doc.kind and d.parser.is_matching(text)]
        assert matching == [doc.pattern], doc.example
