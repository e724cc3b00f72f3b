"""Opens a subscriber export (CSV) in a real spreadsheet (LibreOffice, headless) and checks the formula
guard from the spreadsheet's side (docs/subscriber-export.md): no cell became a formula, and no handle
shows an apostrophe. Not part of `make test` (LibreOffice is not a test dependency); run it on an export:

    python3 scripts/check_export_in_spreadsheet.py assinantes-20261206-0100.csv

Formula evaluation is switched ON in the import options, the worst case a merchant's LibreOffice can be set
to. Exits 0 when the file passes, 1 with the offending cells, 2 when LibreOffice is not installed.
"""

import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
HANDLE_HEADER = ("Usuário", "Username")
# Text CSV import: separator ";" (59), text delimiter '"' (34), UTF-8 (76), from line 1, standard cell format,
# language 0, quoted fields as text false, detect special numbers true, …, evaluate formulas true (13th).
CSV_FILTER = "CSV:59,34,76,1,,0,false,true,false,false,false,-1,true"


def convert(csv_path: Path, workdir: Path) -> Path:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        print("LibreOffice (soffice) is not installed: apt-get install -y libreoffice-calc-nogui")
        sys.exit(2)
    subprocess.run(
        [
            soffice,
            "--headless",
            f"-env:UserInstallation=file://{workdir}/profile",
            f"--infilter={CSV_FILTER}",
            "--convert-to",
            "fods",
            "--outdir",
            str(workdir),
            str(csv_path),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return workdir / (csv_path.stem + ".fods")


def rows(fods: Path):
    """Each row as a list of (text, is_formula) cells, repeated cells expanded."""
    root = ET.parse(fods).getroot()
    for row in root.iter(f"{{{TABLE}}}table-row"):
        cells = []
        for cell in row.iter(f"{{{TABLE}}}table-cell"):
            text = "\n".join("".join(p.itertext()) for p in cell.iter(f"{{{TEXT}}}p"))
            repeat = int(cell.get(f"{{{TABLE}}}number-columns-repeated", "1"))
            cells += [(text, cell.get(f"{{{TABLE}}}formula") is not None)] * min(repeat, 100)
        yield cells


def check(csv_path: Path) -> list[str]:
    problems = []
    with tempfile.TemporaryDirectory() as workdir:
        fods = convert(csv_path, Path(workdir))
        table = list(rows(fods))
    header = [text for text, _formula in table[0]]
    handle = next((i for i, name in enumerate(header) if name in HANDLE_HEADER), None)
    if any(text.startswith("'") for text in header):
        problems.append(f"header has an apostrophe: {header}")
    for number, row in enumerate(table[1:], start=2):
        for column, (text, formula) in enumerate(row):
            if formula:
                problems.append(f"row {number}, column {column + 1}: a formula ({text!r})")
        if handle is not None and handle < len(row) and row[handle][0].startswith("'"):
            problems.append(f"row {number}: the handle shows an apostrophe ({row[handle][0]!r})")
    return problems


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    found = check(Path(sys.argv[1]).resolve())
    for problem in found:
        print(problem)
    print("ok: no formula cells, no apostrophes in handles" if not found else f"{len(found)} problem(s)")
    sys.exit(1 if found else 0)
