"""County scorecard of 三政〔2012〕81号's targets (县区工作目标考核): target
rules over a county entity (rules/targets/), the indicators file counties
fill in, a three-valued evaluator, and the workbook. Independent of the
applicant engine: nothing here touches durable_rules."""
from .evaluate import MET, NOT_DUE, NOT_MET, STATUS_ZH, UNKNOWN, Scorecard, TargetResult, evaluate
from .indicators import IndicatorError, Indicators, read_indicators
from .targets import DEFAULT_TARGETS_DIR, Targets, TargetsError, load_targets
from .workbook import write_scorecard, write_template

__all__ = ["MET", "NOT_DUE", "NOT_MET", "STATUS_ZH", "UNKNOWN", "Scorecard", "TargetResult", "evaluate",
           "IndicatorError", "Indicators", "read_indicators", "DEFAULT_TARGETS_DIR", "Targets",
           "TargetsError", "load_targets", "write_scorecard", "write_template"]
