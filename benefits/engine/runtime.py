"""The durable_rules session driver: one C-engine ruleset per compiled
rulebook, one lock per process.

A process holds several rulesets at once: each rules directory's default
engine, the engines of earlier rule versions kept for replay
(``versions.EngineCache``) and of reforms (``benefits.policy``) each compile
their own, under a name unique to the process, and ``close()`` deletes it.
All of them share the one lock. The durable_rules behaviours relied on here
are in docs/durable-rules.md.

durable's Python ``Host`` spends most of its time re-serialising session
state around each action and runs two timer threads that dispatch from
another thread (segfaults under concurrency). This driver calls the C engine
directly: assert the applicant, take each action in turn, assert derived
facts from the actions, then delete the session so the 1,024-session cap
never fills. All calls into the C engine happen under one process-wide lock.
"""
from __future__ import annotations

import itertools
import json
import os
import threading

import durable_rules_engine as _c

from .compiler import END_RULE

_LOCK = threading.Lock()          # the C engine is not thread-safe
_NAMES = itertools.count()


class EngineError(RuntimeError):
    """durable_rules failed on a record that passed validation: a bug."""


class Firings:
    """What one evaluation fired: per rule id, the verdict (True holds,
    False fails) and the condition indices named by the firing branches."""
    __slots__ = ("verdicts", "branches")

    def __init__(self):
        self.verdicts: dict[str, bool] = {}
        self.branches: dict[str, set[int]] = {}


class DurableSession:
    """A compiled ruleset in the C engine, with the actions its rules name."""

    def __init__(self, ruleset: dict, derived_ids: set[str]):
        self.name = f"benefits_{os.getpid()}_{next(_NAMES)}"
        # pre-encoded derived facts, completed with the session id
        self._derived = {
            rule_id: {verdict: json.dumps({"kind": "derived", "name": rule_id, "value": verdict,
                                           "id": f"d.{rule_id}"})[:-1] + ', "sid": '
                      for verdict in (True, False)}
            for rule_id in derived_ids}
        self._sid = itertools.count()
        with _LOCK:
            self._handle = _c.create_ruleset(self.name, json.dumps(ruleset, ensure_ascii=False))
        self._closed = False

    def run(self, facts: dict) -> Firings:
        firings = Firings()
        with _LOCK:
            sid = str(next(self._sid))
            fact = dict(facts, kind="applicant", id="applicant", sid=sid)
            try:
                code, state = _c.assert_fact(self._handle, json.dumps(fact, ensure_ascii=False))
            except (_c.error, TypeError, ValueError) as exc:
                raise EngineError(f"durable_rules refused the applicant: {exc}") from exc
            if code != 0:
                # Nothing matched, so no action ran: deleting such a session
                # crashes the C engine, and it holds no state worth deleting.
                raise EngineError(f"applicant fact not accepted (code {code})")
            try:
                self._drain(sid, state, firings)
            except (_c.error, ValueError, KeyError) as exc:
                raise EngineError(f"durable_rules failed: {exc}") from exc
            finally:
                _c.delete_state(self._handle, sid)
        return firings

    def _drain(self, sid: str, state: int, firings: Firings) -> None:
        """Take every action of the session, asserting derived facts as they come."""
        verdicts, branches, derived = firings.verdicts, firings.branches, self._derived
        sid_json = json.dumps(sid)
        while True:
            # Drain every action this round, then assert the round's derived
            # facts in one call: far cheaper than one assert per derived fact.
            new_facts = []
            started = _c.start_action_for_state(self._handle, state)
            message = started[1] if started else None
            while message:
                # message = '{"<rule>.<T|F>":{"<alias>":{...}}}'; parse the prefix only
                _, name, _, alias, _ = message.split('"', 4)
                if name != END_RULE:
                    rule_id, verdict = name[:-2], name[-1] == "T"
                    if rule_id not in verdicts:   # `any` fires once per branch
                        verdicts[rule_id] = verdict
                        if rule_id in derived:
                            new_facts.append(derived[rule_id][verdict] + sid_json + "}")
                    if alias[0] == "c":
                        branches.setdefault(rule_id, set()).add(int(alias[1:]))
                message = _c.complete_and_start_action(self._handle, state)
            if not new_facts:
                return
            code, state = _c.assert_facts(self._handle, "[" + ",".join(new_facts) + "]")
            if code != 0:
                raise EngineError(f"derived facts not accepted (code {code})")

    def close(self) -> None:
        with _LOCK:
            if not self._closed:
                _c.delete_ruleset(self._handle)
                self._closed = True
