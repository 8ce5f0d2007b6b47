"""The screenshot diff engine (pixelmatch 7.2.0 exact, vectorised), ignore regions and per-screen
rules, baselines per branch with history, comparisons of a run, the QA review decisions, and
thumbnails/diff images for the dashboard."""

from screenshots.baselines import (
    BaselineKey,
    BaselineRepository,
    BaselineVersion,
    InvalidName,
    ResolvedBaseline,
)
from screenshots.blobstore import BlobNotFound, BlobStore, LocalBlobStore
from screenshots.diff import ScreenDiff, Status, compare_screens
from screenshots.folders import FolderDiff, diff_folders
from screenshots.pixelmatch import MatchOptions, MatchResult
from screenshots.png import ScreenshotFileError
from screenshots.regions import ChangedBox, Rect
from screenshots.renditions import Renditions, thumbnail_png
from screenshots.review import (
    BaselineAction,
    ComparisonRecord,
    ComparisonSuperseded,
    Decision,
    ReviewRecord,
    ReviewRefused,
    StageState,
    StageVerdict,
    check_review,
    stage_verdict,
)
from screenshots.rules import DiffSettings, ScreenRule, ScreenSettings
from screenshots.stage import RunComparison, compare_run

__all__ = [
    "BaselineAction",
    "BaselineKey",
    "BaselineRepository",
    "BaselineVersion",
    "BlobNotFound",
    "BlobStore",
    "ChangedBox",
    "ComparisonRecord",
    "ComparisonSuperseded",
    "Decision",
    "DiffSettings",
    "FolderDiff",
    "InvalidName",
    "LocalBlobStore",
    "MatchOptions",
    "MatchResult",
    "Rect",
    "Renditions",
    "ResolvedBaseline",
    "ReviewRecord",
    "ReviewRefused",
    "RunComparison",
    "ScreenDiff",
    "ScreenRule",
    "ScreenSettings",
    "ScreenshotFileError",
    "StageState",
    "StageVerdict",
    "Status",
    "check_review",
    "compare_run",
    "compare_screens",
    "diff_folders",
    "stage_verdict",
    "thumbnail_png",
]
