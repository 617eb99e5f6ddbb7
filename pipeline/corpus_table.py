"""``aubench run ... --table OUT.parquet``: every video's CSV of a batch in one Parquet file.

The rows of each done (or ``--resume``-skipped) video's OpenFace CSV, in the batch's order, with a
first column ``source`` (the input path as given). One row group per video, written as each is read,
so a corpus of any size is gathered in the memory of one video's table. Every CSV of a batch has the
same columns (one config); the first video's types are the file's schema.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from aubench.pipeline.errors import InputError, OutputError, output_error
from aubench.pipeline.video_task import VideoOutcome, shown


def write_table(outcomes: Iterable[VideoOutcome], path: str | Path) -> Path:
    """Write the done and skipped videos' CSVs into the Parquet file ``path`` (pyarrow); returns ``path``."""
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError("--table needs pyarrow: pip install 'aubench[cluster]' (or: pip install pyarrow)") from None
    path = Path(path)
    if path.suffix.lower() != ".parquet":
        raise InputError(f"--table {path}: expected a .parquet file name, e.g. {path.with_suffix('.parquet')}")
    writer = None
    # OpenFace writes ", " between values: the spaces are stripped from the names here, from the numbers by pyarrow
    parse = pacsv.ParseOptions(delimiter=",")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for o in outcomes:
            if o.status not in ("done", "skipped") or o.csv is None:
                continue
            with open(o.csv, "rb") as fh:  # a file object: pyarrow cannot take a path that is not UTF-8
                table = pacsv.read_csv(fh, parse_options=parse)
            table = table.rename_columns([name.strip() for name in table.column_names])
            table = table.add_column(0, "source", pa.array([shown(o.video)] * table.num_rows, pa.string()))
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            elif table.schema != writer.schema:
                try:
                    table = table.cast(writer.schema)
                except (pa.ArrowInvalid, ValueError) as e:
                    raise OutputError(f"--table {path}: {o.csv} has other columns or types than the batch's first CSV "
                                      f"({e}); run the videos of one config into one table") from None
            writer.write_table(table)
    except OSError as exc:
        raise output_error(exc, path, flag="--table") from None
    finally:
        if writer is not None:
            writer.close()
    return path
