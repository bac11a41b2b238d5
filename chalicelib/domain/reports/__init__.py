"""Reports: pure aggregation of the compact report record (ReportEvent / ScoreEvent items).

events in -> figures out. `fold` makes one pass to find the leads of the period (the
cohort) and one pass to fold every later fact of those leads into small per-lead and
per-agent tallies; `figures` turns a fold into the dashboard, response-time, lead-source,
overview and internet-response answers; `csv_files` writes them for Excel. The
definitions of every figure are in docs/reports.md and in the docstrings of `figures`.
"""
