"""What a caseload costs in a budget year (测算口径), shared by finance's estimate and policy's comparison: the caseload as applicant frames, each person's change points and month weights, the columnar evaluation folded into running totals (Tally), and the summary of those totals."""
from .columnar import COUNTY, PERSON, ColumnarEstimate, LineTotals
from .frames import CHUNK_ROWS, FrameChunk, applicant_frames, chunk_rows, partition_frames, partitioned_frames
from .periods import Planner
from .summary import METHOD_ZH, UNKNOWN_COUNTY_ZH, county_name, parameters_in_year, summarise
from .tally import MONEY_KINDS, Tally, household_key
from ..engine.vocabulary import PAYERS

__all__ = ["COUNTY", "PERSON", "ColumnarEstimate", "LineTotals", "CHUNK_ROWS", "FrameChunk", "applicant_frames",
           "chunk_rows", "partition_frames", "partitioned_frames", "Planner", "METHOD_ZH", "UNKNOWN_COUNTY_ZH",
           "county_name", "parameters_in_year", "summarise", "MONEY_KINDS", "PAYERS", "Tally", "household_key"]
