"""Caseload files (台账): reading CSV, JSON Lines and XLSX, the flat column layout of the applicant record, the rows' rejects, writing caseloads and output files safely, and the synthetic caseload (`benefits generate`)."""
from . import synthetic
from .columns import (BY_PATH, COLUMNS, FALSE_WORDS, MAX_CELL, TRUE_WORDS, BadRow, Column, LayoutError, cell_value,
                      check_header, empty_cell, flatten, unflatten)
from .readers import (FORMATS, Caseload, CaseloadError, DamagedFile, caseload_encoding, encoding_note, csv_rows, detect_encoding, detect_format,
                      encoding_of, encoding_zh, file_encoding, json_records, open_caseload, text_stream, xlsx_rows)
from .rows import chunks, parse_row, row_rejects
from .writers import (FORMULA_PREFIXES, STALE_AFTER, atomic_output, atomic_outputs, clean_stale_partials, save_book,
                      text_cell, write_caseload, write_only_book)

__all__ = [
    # the column layout (columns.py)
    "BY_PATH", "COLUMNS", "FALSE_WORDS", "MAX_CELL", "TRUE_WORDS", "BadRow", "Column", "LayoutError",
    "cell_value", "check_header", "empty_cell", "flatten", "unflatten",
    # reading (readers.py)
    "FORMATS", "Caseload", "CaseloadError", "DamagedFile", "caseload_encoding", "encoding_note", "csv_rows", "detect_encoding", "detect_format",
    "encoding_of", "encoding_zh", "file_encoding", "json_records", "open_caseload", "text_stream", "xlsx_rows",
    # rows and their rejects (rows.py)
    "chunks", "parse_row", "row_rejects",
    # writing (writers.py): caseloads, and every output file (atomic, text never a formula)
    "FORMULA_PREFIXES", "STALE_AFTER", "atomic_output", "atomic_outputs", "clean_stale_partials", "save_book",
    "text_cell", "write_caseload", "write_only_book",
    # the synthetic caseload: synthetic.caseload(size, seed, bad, year)
    "synthetic",
]
