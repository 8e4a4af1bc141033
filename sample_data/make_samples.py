"""Regenerate the sample sheets: python sample_data/make_samples.py [FOLDER] [--today YYYY-MM-DD]

The generator lives in batch_scheduler.demo.samples so that `batch-scheduler demo` can use it.
"""

from batch_scheduler.demo.samples import main

if __name__ == "__main__":
    main()
