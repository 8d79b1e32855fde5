"""Per-user windowed features with event-time windows and a watermark.

`user_features(events, ...)` works on a streaming DataFrame (append mode: a window is emitted
once the watermark passes its end, later rows for it are dropped and counted by Spark as
`numRowsDroppedByWatermark`) and on a batch DataFrame (the watermark is ignored), which is how
the same definition feeds both the stream and backfills. Tumbling windows when `slide` is
None, sliding windows otherwise (an event then counts in window/slide windows).
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F  # noqa: N812 - Spark's convention

FEATURE_COLUMNS = ["n_events", "n_views", "n_clicks", "n_purchases", "total_amount",
                   "avg_amount"]
OUTPUT_COLUMNS = ["user_id", "window_start", "window_end", *FEATURE_COLUMNS,
                  "last_event_time"]


def _count_action(action: str) -> Column:
    return F.sum(F.when(F.col("action") == action, 1).otherwise(0)).cast("long")


def user_features(events: DataFrame, window_seconds: int, slide_seconds: int | None,
                  watermark_seconds: int) -> DataFrame:
    """Aggregate events (event_id, user_id, event_time, action, amount) per user and window."""
    # BEGIN SOLUTION
    duration = f"{window_seconds} seconds"
    slide = f"{slide_seconds} seconds" if slide_seconds else duration
    watermarked = events.withWatermark("event_time", f"{watermark_seconds} seconds")
    grouped = watermarked.groupBy(F.window("event_time", duration, slide).alias("w"),
                                  F.col("user_id"))
    aggregated = grouped.agg(
        F.count(F.lit(1)).cast("long").alias("n_events"),
        _count_action("view").alias("n_views"),
        _count_action("click").alias("n_clicks"),
        _count_action("purchase").alias("n_purchases"),
        F.round(F.sum("amount"), 4).alias("total_amount"),
        F.round(F.avg("amount"), 4).alias("avg_amount"),
        F.max("event_time").alias("last_event_time"),
    )
    return aggregated.select(
        "user_id", F.col("w.start").alias("window_start"), F.col("w.end").alias("window_end"),
        *FEATURE_COLUMNS, "last_event_time")
    # END SOLUTION
