"""Serving a model over HTTP (`mlgate serve`), the API's shape, and loading it with locust."""
