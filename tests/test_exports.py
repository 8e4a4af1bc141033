"""The public faces: `batch_scheduler`'s names and each subpackage's `__all__`, held to a list
(as httpx's test_exported_members does), so that a face changes only on purpose.

A name added to or dropped from a face is a change for every caller: update the list here
in the same commit, and say why in its message.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType

import pytest

import batch_scheduler

FACES: dict[str, list[str]] = {
    "batch_scheduler": [
        "AllocateRequest", "AllocationReport", "BatchSchedulerError", "Progress", "RunReport",
        "RunRequest", "Settings", "Strategy", "__version__", "allocate", "load_settings", "run",
    ],
    "batch_scheduler.allocate": ["AllocateRequest", "AllocationReport", "Strategy", "allocate"],
    "batch_scheduler.api": ["ApiClient", "parse_appointment"],
    "batch_scheduler.cli": ["cli", "main"],
    "batch_scheduler.columns": [
        "API_NAMES", "BOOK_FIELDS", "CANCEL_FIELDS", "CLAIMANT_FIELDS", "FEATURE_FLAGS", "Field",
        "HOST_COLUMN", "Kind", "OPTION_FIELDS", "RESULT_COLUMNS", "SLOT_FIELDS", "SOURCE_ROW",
        "column_index", "column_letter", "echoed_headers", "field_named", "fields_for",
        "fold_label", "results_start",
    ],
    "batch_scheduler.config": [
        "ApiSettings", "BodyFormat", "CHECK_EXISTING", "DEFAULT_STATE_DIR", "ENV_BASE_URL",
        "ENV_CLIENT_ID", "ENV_CLIENT_SECRET", "ENV_NOW", "ENV_STATE_DIR", "ENV_STATE_URL",
        "ENV_TOKEN", "ENV_TOKEN_URL", "IntakeSettings", "PRODUCTION_TOKEN_URL", "Secret",
        "SendSettings", "Settings", "check_base_url", "check_private", "check_state_url",
        "configured_language", "is_loopback_url", "load_settings", "pinned_now", "read_config_file",
        "state_url_secrets"
    ],
    "batch_scheduler.demo": [
        "CONFIG_NAME", "DEMO_FAULTS", "demo_input", "demo_settings", "run_demo",
        "write_fresh_samples", "write_samples",
    ],
    "batch_scheduler.i18n": [
        "DEFAULT_LANGUAGE", "ENV_VAR", "LANGUAGES", "LazyString", "N_", "UnknownLanguage", "_",
        "current_language", "forget_lookups", "gettext", "language_code", "lazy_gettext",
        "ngettext", "pgettext", "resolve_language", "set_default_language", "set_language",
        "translations_for", "use_language",
    ],
    "batch_scheduler.intake": ["NEVER_BOOKED", "previous_outcomes", "read_table", "sheet_names"],
    "batch_scheduler.issues": [
        "ALLOCATION_CODES", "ALL_CODES", "CODES", "PHONE_MANGLED_CAUSES", "READER_CODES",
        "RUN_CODES", "UNKNOWN_COLUMN_PROBLEMS", "Code", "make_issue", "phone_mangled",
        "unknown_column",
    ],
    "batch_scheduler.ledger": [
        "CANCEL", "CREATE", "Cursor", "EntryState", "GroupCommit", "IndexedLedger", "Ledger",
        "LedgerBackend", "LedgerEntry", "LedgerUpdate", "Refusal", "open_ledger",
    ],
    "batch_scheduler.output": [
        "JSON_SUFFIXES", "Output", "PLAN_SUFFIXES", "RESULTS_SUFFIXES", "Saved", "atomic_path",
        "check_outputs", "plan_summary", "rows_to_fix", "save", "save_outputs", "summary_counts",
        "write_bytes_atomic", "write_fix_sheet", "write_plan", "write_results",
        "write_summary_json", "write_template",
    ],
    "batch_scheduler.output.xlsx": ["Page", "StreamBook", "StreamSheet"],
    "batch_scheduler.sandbox": [
        "RunningSandbox", "SandboxConfig", "SandboxState", "create_app", "start_sandbox",
    ],
    "batch_scheduler.send": [
        "CancelTriage", "CreateTriage", "SendStats", "Stopped", "Timing", "check_access",
        "conflict_code",
        "nothing_to_cancel", "send_cancels", "send_creates", "triage_cancels", "triage_creates",
        "watch_contact",
    ],
    "batch_scheduler.validate": [
        "BookValidation", "CancelValidation", "REFERENCE_PREFIX", "SheetCell", "cell_of",
        "claimant_reference", "describe_rules", "validate_book", "validate_cancel",
    ],
    "batch_scheduler.web": [
        "RunningWeb", "ServeOptions", "WebContext", "build_context", "create_app",
    ],
}  # fmt: skip

# Packages that are no stage of a run: their docstrings say what they are, not what they
# take and return.
NOT_STAGES = {
    "batch_scheduler.columns",  # the names every stage shares
    "batch_scheduler.config",  # the settings every stage takes
    "batch_scheduler.i18n",
    "batch_scheduler.issues",  # the codes every stage makes issues with
    "batch_scheduler.sandbox",
    "batch_scheduler.web",
}


def subpackages() -> list[str]:
    found = pkgutil.walk_packages(batch_scheduler.__path__, "batch_scheduler.")
    return sorted(info.name for info in found if info.ispkg)


def test_every_subpackage_has_its_face_held_here() -> None:
    assert sorted(FACES) == ["batch_scheduler", *subpackages()]


@pytest.mark.parametrize("name", sorted(FACES))
def test_the_public_names_are_the_ones_listed(name: str) -> None:
    module = importlib.import_module(name)
    assert sorted(module.__all__) == sorted(FACES[name])


@pytest.mark.parametrize("name", sorted(FACES))
def test_every_public_name_exists(name: str) -> None:
    module = importlib.import_module(name)
    missing = [member for member in module.__all__ if not hasattr(module, member)]
    assert not missing, f"{name}.__all__ names what it does not have: {missing}"


@pytest.mark.parametrize("name", sorted(set(subpackages()) - NOT_STAGES))
def test_each_stage_says_what_it_takes_and_returns(name: str) -> None:
    doc = _doc(importlib.import_module(name))
    assert re.search(r"\bTakes\b", doc), f"{name}'s docstring does not say what it takes"
    assert re.search(r"\b(returns?|gives|writes)\b", doc), f"{name}'s docstring: returns what?"


@pytest.mark.parametrize("name", sorted(NOT_STAGES | {"batch_scheduler"}))
def test_every_other_package_says_what_it_is(name: str) -> None:
    assert len(_doc(importlib.import_module(name)).split()) >= 10


def _doc(module: ModuleType) -> str:
    return " ".join((module.__doc__ or "").split())
