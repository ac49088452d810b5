"""Deployments of recoup's flows, the top layer: ``prefect.yaml`` deploys them to a process work
pool; ``serve.py`` (``python -m deployments.serve``) is ``recoup serve``, whose deployments are
built in ``flows/serving.py``."""
