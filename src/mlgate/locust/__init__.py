"""Locust users for a prediction API, shipped with mlgate so a model repository needs only thin locustfiles.

``users`` (closed-loop single rows and batches), ``open_loop`` (constant arrival rate, step load),
``common`` (bodies from real rows, raw samples, budgets) and ``run_end`` (runs sized in requests).
``files/`` holds ready locustfiles: what `mlgate load` runs when a repository has none of its own.
"""
