"""`python -m pipeline run | predict | generate-sample`."""

import sys

from pipeline.cli import main

sys.exit(main())
