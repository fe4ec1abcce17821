"""The eligibility engine: rule files → compiled durable_rules ruleset →
determinations. No HTTP here."""
from .applicant import DAY_BEFORE_BIRTH, Applicant, FieldError, InvalidApplicant, parse_applicant
from .identity import CURRENT_COUNTIES
from .evaluate import ELIGIBLE, INELIGIBLE, UNDETERMINED, Engine, default_engine, mask_id
from .needs import ALWAYS, Service, covers, needed_paths, service_paths, services
from .rulebook import Rulebook, RulebookError, load_rulebook
from .runtime import EngineError

__all__ = ["CURRENT_COUNTIES", "DAY_BEFORE_BIRTH", "Applicant", "FieldError", "InvalidApplicant", "parse_applicant", "Engine",
           "default_engine", "mask_id", "ELIGIBLE", "INELIGIBLE", "UNDETERMINED",
           "Rulebook", "RulebookError", "load_rulebook", "EngineError",
           "ALWAYS", "Service", "covers", "needed_paths", "service_paths", "services"]
