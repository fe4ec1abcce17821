"""The eligibility engine: rule files → compiled durable_rules ruleset →
determinations. No HTTP here."""
from .applicant import DAY_BEFORE_BIRTH, Applicant, FieldError, InvalidApplicant, parse_applicant
from .identity import CURRENT_COUNTIES, county_name
from .evaluate import Engine, default_engine, mask_id
from .needs import ALWAYS, GATES, Service, covers, gate_no, needed_paths, rank_questions, service_paths, services
from .rulebook import Rulebook, RulebookError, load_rulebook, read_rule_files, rulebook_version, value_problem
from .runtime import EngineError
from .versions import EngineCache, VersionMismatch, rulebook_of_version
from .vocabulary import (BACK_ENDS, ELIGIBLE, INELIGIBLE, PAYER_ZH, PAYERS, PERIOD_ZH, STATUS_ZH, UNDETERMINED,
                         Determination)

__all__ = ["value_problem", "county_name", "BACK_ENDS", "CURRENT_COUNTIES", "DAY_BEFORE_BIRTH", "Applicant", "FieldError", "InvalidApplicant", "parse_applicant", "Engine",
           "default_engine", "mask_id", "ELIGIBLE", "INELIGIBLE", "UNDETERMINED", "Determination",
           "PAYERS", "PAYER_ZH", "PERIOD_ZH", "STATUS_ZH", "rank_questions", "GATES", "gate_no",
           "Rulebook", "RulebookError", "load_rulebook", "EngineError", "read_rule_files", "rulebook_version",
           "EngineCache", "VersionMismatch", "rulebook_of_version",
           "ALWAYS", "Service", "covers", "needed_paths", "service_paths", "services"]
