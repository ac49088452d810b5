"""Deployments of recoup's flows: ``serve.py`` serves them from this machine (``recoup serve``);
``prefect.yaml`` deploys them to a process work pool."""
