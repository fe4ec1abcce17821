"""The synthetic caseload generator: same seed, same caseload; every row
valid unless made bad on purpose."""
import itertools
import json

from benefits.engine import InvalidApplicant, parse_applicant
from benefits.engine.identity import CURRENT_COUNTIES, parse_certificate_number
from benefits.caseload.synthetic import BAD_KINDS, caseload


def _text(records):
    return [json.dumps(r, ensure_ascii=False, sort_keys=True) for r in records]


def test_same_seed_same_caseload():
    assert _text(caseload(500, seed=3, bad=5)) == _text(caseload(500, seed=3, bad=5))
    assert _text(caseload(500, seed=3)) != _text(caseload(500, seed=4))


def test_a_longer_run_starts_with_the_shorter_one():
    assert _text(caseload(100, seed=2)) == _text(itertools.islice(caseload(1000, seed=2), 100))


def test_every_row_is_valid():
    seen = {"counties": set(), "categories": set(), "grades": set(), "residence": set(), "dibao": set()}
    for record in caseload(3000, seed=1):
        applicant = parse_applicant(record)          # raises on any invalid row
        id_number, category, grade, _ = parse_certificate_number(applicant.certificate.number)
        assert id_number == applicant.id_number
        code = applicant.id_number[:6]
        assert code == applicant.hukou_county or (code == "411222" and applicant.hukou_county == "411203")
        seen["counties"].add(applicant.hukou_county)
        seen["categories"].add(category)
        seen["grades"].add(grade)
        seen["residence"].add(applicant.residence)
        seen["dibao"].add(applicant.status.dibao)
    assert seen["counties"] == set(CURRENT_COUNTIES)
    assert seen["categories"] == set(range(1, 8)) and seen["grades"] == {1, 2, 3, 4}
    assert seen["residence"] == {"urban", "rural"} and {True, False} <= seen["dibao"]


def test_bad_rows_are_exactly_the_asked_number():
    bad_rows = []
    for number, record in enumerate(caseload(1200, seed=1, bad=len(BAD_KINDS) * 2), 1):
        try:
            parse_applicant(record)
        except InvalidApplicant:
            bad_rows.append(number)
    assert len(bad_rows) == len(BAD_KINDS) * 2
