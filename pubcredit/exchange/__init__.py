"""Data exchange with the provincial and national platforms: 上报 (incremental export of 双公示
and list data in the national exchange format, watermarked batches, receipts, a push client)
and 下发 (national and provincial data arriving through intake, marked with its source)."""
