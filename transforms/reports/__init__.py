"""The run's reports: exposure.json (the summary other systems read), findings.csv/.parquet (for
finance), index.html (for the compliance lead) and Prefect artifacts (for the run history).

    summary = build_summary(con, as_of=as_of, scope=Scope.nightly(), skipped=result.skipped)
    paths = write_reports(con, report_dir(root, scope, as_of), as_of=..., scope=..., skipped=...)
    publish_artifacts(paths.summary, paths.top_lines, key_prefix=artifact_key_prefix(scope))
"""

from transforms.reports.artifacts import publish_artifacts
from transforms.reports.exposure import build_summary
from transforms.reports.json_report import to_json
from transforms.reports.queries import ReportInputsStale
from transforms.reports.scope import Scope, artifact_key_prefix, report_dir
from transforms.reports.writer import ReportPaths, write_reports

__all__ = [
    "ReportInputsStale",
    "ReportPaths",
    "Scope",
    "artifact_key_prefix",
    "build_summary",
    "publish_artifacts",
    "report_dir",
    "to_json",
    "write_reports",
]
