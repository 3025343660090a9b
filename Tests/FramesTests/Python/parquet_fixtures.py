"""Writes Parquet files with every encoding, codec and page version MLW's reader supports,
each beside NAME.json holding the values pyarrow reads back from it (datetimes as
microseconds since the epoch, decimals as floats, nulls as null).

    python parquet_fixtures.py OUT_DIR [ROWS]

Run by FramesTests.ParquetReaderTests through MLW_PYTHON; the same script made the small
committed fixtures under Tests/FramesTests/Fixtures/parquet (ROWS=240).
"""
import datetime as dt
import decimal
import json
import os
import random
import sys

import pyarrow as pa
import pyarrow.parquet as pq

out = sys.argv[1]
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 2500
os.makedirs(out, exist_ok=True)
rng = random.Random(16)


def maybe(v, p=0.15):
    return None if rng.random() < p else v


words = ["alpha", "beta", "gamma", "delta", "épsilon", "日本", "", "zeta"]
base_ts = 1_717_200_000_000_000  # 2024-06-01 in microseconds
cols = {
    "i32": pa.array([maybe(rng.randint(-2**31, 2**31 - 1)) for _ in range(rows)], pa.int32()),
    "i64": pa.array([rng.randint(-10**6, 10**6) * (1 if i % 7 else 10**9) for i in range(rows)], pa.int64()),
    "f32": pa.array([rng.uniform(-1e3, 1e3) for _ in range(rows)], pa.float32()),
    "f64": pa.array([maybe(rng.gauss(0, 1e6)) for _ in range(rows)], pa.float64()),
    "b": pa.array([maybe(rng.random() < 0.3) for _ in range(rows)], pa.bool_()),
    "s": pa.array([maybe(rng.choice(words)) for _ in range(rows)], pa.string()),
    "s_prefix": pa.array(["user/%06d/%s" % (i // 3, rng.choice(words)) for i in range(rows)], pa.string()),
    "d": pa.array([maybe(dt.date(2020, 1, 1) + dt.timedelta(days=rng.randint(-20000, 3000))) for _ in range(rows)], pa.date32()),
    "ts_ms": pa.array([base_ts // 1000 + rng.randint(-10**10, 10**10) for _ in range(rows)], pa.timestamp("ms", tz="UTC")),
    "ts_us": pa.array([maybe(base_ts + rng.randint(-10**13, 10**13)) for _ in range(rows)], pa.timestamp("us", tz="UTC")),
    "ts_ns": pa.array([base_ts * 1000 + rng.randint(-10**16, 10**16) for _ in range(rows)], pa.timestamp("ns")),
    "dec": pa.array([maybe(decimal.Decimal(rng.randint(-10**9, 10**9)) / 100) for _ in range(rows)], pa.decimal128(12, 2)),
}
table = pa.table(cols)
no_dec = table.drop(["dec"])

variants = {
    "plain_none_v1": dict(table=table, use_dictionary=False, compression="none", data_page_version="1.0"),
    "dict_snappy_v1": dict(table=table, use_dictionary=True, compression="snappy", data_page_version="1.0"),
    "dict_gzip_v2": dict(table=table, use_dictionary=True, compression="gzip", data_page_version="2.0"),
    "plain_zstd_v2": dict(table=table, use_dictionary=False, compression="zstd", data_page_version="2.0"),
    "delta_zstd_v2": dict(table=no_dec, use_dictionary=False, compression="zstd", data_page_version="2.0",
                          column_encoding={"i32": "DELTA_BINARY_PACKED", "i64": "DELTA_BINARY_PACKED",
                                           "ts_us": "DELTA_BINARY_PACKED", "d": "DELTA_BINARY_PACKED",
                                           "s": "DELTA_LENGTH_BYTE_ARRAY", "s_prefix": "DELTA_BYTE_ARRAY",
                                           "f32": "BYTE_STREAM_SPLIT", "f64": "BYTE_STREAM_SPLIT",
                                           "ts_ms": "BYTE_STREAM_SPLIT", "b": "RLE"}),
    "delta_snappy_v1": dict(table=no_dec, use_dictionary=False, compression="snappy", data_page_version="1.0",
                            column_encoding={"i32": "BYTE_STREAM_SPLIT", "i64": "DELTA_BINARY_PACKED",
                                             "s": "DELTA_BYTE_ARRAY", "s_prefix": "DELTA_LENGTH_BYTE_ARRAY",
                                             "f64": "BYTE_STREAM_SPLIT", "ts_ns": "DELTA_BINARY_PACKED"}),
    "decimal_int_gzip_v1": dict(table=table.select(["dec", "i32"]).set_column(
        0, "dec", pa.array([maybe(decimal.Decimal(rng.randint(-10**7, 10**7)) / 1000) for _ in range(rows)], pa.decimal128(9, 3))),
        use_dictionary=False, compression="gzip", data_page_version="1.0", store_decimal_as_integer=True),
}


def cell(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, dt.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=dt.timezone.utc)
        d = v - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
        return (d.days * 86400 + d.seconds) * 1_000_000 + d.microseconds
    if isinstance(v, dt.date):
        return (v - dt.date(1970, 1, 1)).days * 86_400_000_000
    return v


for name, kw in variants.items():
    t = kw.pop("table")
    path = os.path.join(out, name + ".parquet")
    pq.write_table(t, path, row_group_size=max(rows // 3, 1), data_page_size=2048, **kw)
    back = pq.read_table(path)
    expected = {}
    for field in back.schema:
        col = back.column(field.name)
        if pa.types.is_timestamp(field.type) and field.type.unit == "ns":
            values = [None if v is None else v // 1000 for v in col.cast(pa.int64()).to_pylist()]
        else:
            values = [cell(v) for v in col.to_pylist()]
        expected[field.name] = values
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump({"rows": back.num_rows, "columns": [f.name for f in back.schema], "values": expected}, f)
print("wrote", len(variants), "files to", out)
