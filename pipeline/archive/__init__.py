"""The archive: ``tracking.batch`` as hour-partitioned Parquet files, exactly once per record.

    schema     an enriched record as one typed row (or garbage, with its reason)   pure
    naming     hour folders and file names (partition, first and last offset)      pure
    writer     a roll of files made durable: temp name, fsync, rename, fsync dir
    resume     what the files hold: highest offset per partition, hours and rows
    consumer   the loop: consume, convert, roll, dead-letter, commit
    progress   how far the archive group is behind tracking.batch
    spend      the spend the workers hold, from the tracking state changelog
    reconcile  archived cost per campaign against that spend
"""
