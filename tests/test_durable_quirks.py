"""Regression tests for the durable_rules behaviours the engine relies on
(docs/durable-rules.md). If an upgrade changes one, these fail."""
import json

import durable_rules_engine as c
import pytest

from benefits.engine.runtime import DurableSession

A = {"kind": "applicant"}
END = {"__end__": {"all": [{"m": A}], "pri": 1_000_000}}


def fired(rules: dict, fact: dict) -> dict:
    session = DurableSession(rules | END, set())
    try:
        firings = session.run(fact)
        return {rule: firings.branches.get(rule, set()) for rule in firings.verdicts}
    finally:
        session.close()


def test_a_test_on_a_missing_field_never_matches():
    rules = {"x.T": {"all": [{"a": {"$and": [A, {"$neq": {"f": 1}}]}}]},
             "y.T": {"all": [{"a": {"$and": [A, {"$lt": {"f": 1}}]}}]}}
    assert fired(rules, {}) == {}
    assert set(fired(rules, {"f": 0})) == {"x", "y"}


def test_a_guarded_field_reference_does_not_match_when_missing():
    rules = {"x.T": {"all": [{"a": {"$and": [A, {"$ex": {"inc": 1}}, {"$ex": {"std": 1}},
                                              {"$lt": {"inc": {"$m": "std"}}}]}}]}}
    assert fired(rules, {"inc": 1}) == {}
    assert set(fired(rules, {"inc": 1, "std": 2})) == {"x"}


def test_nested_and_shared_by_two_any_branches_loses_the_second():
    """Why the compiler keeps conjunctions flat."""
    nested = {"x.F": {"any": [
        {"c0": {"$and": [A, {"$and": [{"$ex": {"age": 1}}, {"$lt": {"age": 16}}]}]}},
        {"c1": {"$and": [A, {"$and": [{"$ex": {"age": 1}}, {"$gt": {"age": 59}}]}]}}]}}
    flat = {"x.F": {"any": [{"c0": {"$and": [A, {"$lt": {"age": 16}}]}},
                            {"c1": {"$and": [A, {"$gt": {"age": 59}}]}}]}}
    assert fired(nested, {"age": 60}) == {}           # the quirk
    assert fired(flat, {"age": 60}) == {"x": {1}}


def test_any_fires_once_per_matching_branch():
    rules = {"x.F": {"any": [{"c0": {"$and": [A, {"$lt": {"age": 16}}]}},
                             {"c1": {"$and": [A, {"$gt": {"grade": 2}}]}}]}}
    assert fired(rules, {"age": 10, "grade": 3}) == {"x": {0, 1}}


def test_there_is_no_in_operator():
    with pytest.raises(c.error, match="202"):
        c.create_ruleset("no_in", json.dumps({"r": {"all": [{"m": {"$in": {"f": [1, 2]}}}]}}))


def test_types_are_coerced_loosely_so_records_are_validated_first():
    rules = {"x.T": {"all": [{"a": {"$and": [A, {"$gt": {"f": 60}}]}}]}}
    assert set(fired(rules, {"f": "abc"})) == {"x"}


def test_more_sessions_than_the_cap_when_state_is_deleted():
    """1,024 live sessions is the cap; deleting each one keeps us far below."""
    session = DurableSession({"x.T": {"all": [{"a": {"$and": [A, {"$gte": {"age": 18}}]}}]}} | END, set())
    try:
        results = [session.run({"age": 18 + i % 2}).verdicts for i in range(3000)]
        assert results.count({"x": True}) == 3000
    finally:
        session.close()
