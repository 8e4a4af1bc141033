"""Regenerate the checked-in templates: python templates/make_templates.py [FOLDER]

The generator lives in batch_scheduler.output.templates so that `batch-scheduler template`
writes the same files.
"""

import sys
from pathlib import Path

from batch_scheduler.output.templates import generate

if __name__ == "__main__":
    generate(Path(sys.argv[1] if len(sys.argv) > 1 else "templates"))
