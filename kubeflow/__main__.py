"""`python -m kubeflow compile|submit|schedule|runs|unschedule`."""

import sys

from kubeflow.cli import main

sys.exit(main())
