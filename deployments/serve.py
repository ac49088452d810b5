"""``python -m deployments.serve``: the same as ``recoup serve`` (the deployments it registers
are built in ``flows/serving.py``; ``deployments/prefect.yaml`` holds the work-pool variant).
"""

from __future__ import annotations

import sys

from flows.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
