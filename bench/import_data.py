"""A CFPB file of any length for the import benchmark: ../shared/data/cfpb_structured.csv repeated,
each copy's Complaint IDs rewritten (original + copy x 10,000,000; CFPB ids stay below that) so that
every row is new; each copy is the same mix of rows. Streamed: memory does not grow with the length.

Usage: .venv/bin/python bench/import_data.py ROWS OUT.csv"""

import csv
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "cfpb_structured.csv"
STRIDE = 10_000_000


def generate(rows: int, out_path: Path, source: Path = SOURCE, first_copy: int = 0) -> int:
    """Write `rows` data rows (plus the header) to out_path; returns the number written. Files made
    with different `first_copy` values far enough apart share no Complaint ID."""
    written = 0
    copy = first_copy
    with out_path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        while written < rows:
            with source.open(encoding="utf-8", newline="") as f:
                reader = csv.reader(f)
                header = next(reader)
                if copy == first_copy:
                    writer.writerow(header)
                id_at = header.index("Complaint ID")
                for record in reader:
                    if written >= rows:
                        break
                    if record[id_at].isdigit():
                        record[id_at] = str(int(record[id_at]) + copy * STRIDE)
                    else:
                        record[id_at] = f"{record[id_at]}-{copy}"
                    writer.writerow(record)
                    written += 1
            copy += 1
    return written


if __name__ == "__main__":
    print(generate(int(sys.argv[1]), Path(sys.argv[2])))
