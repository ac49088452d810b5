"""The run's reports: exposure.json (the summary other systems read), findings.csv/.parquet (for
finance), index.html (for the compliance lead) and Prefect artifacts (for the run history).

    summary = build_summary(con, as_of=as_of, scope=Scope.nightly(), skipped=result.skipped)
    paths = write_reports(con, report_dir(root, scope, as_of), as_of=..., scope=..., skipped=...)
    publish_artifacts(paths.summary, paths.top_lines, key_prefix=artifact_key_prefix(scope))
"""

from reporting.artifacts import publish_artifacts
from reporting.exposure import build_summary
from reporting.json_report import to_json
from reporting.queries import ReportInputsStale
from reporting.scope import Scope, artifact_key_prefix, report_dir
from reporting.writer import ReportPaths, write_reports

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
