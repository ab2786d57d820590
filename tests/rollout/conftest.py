from tests.serving.conftest import MODEL, features, served  # noqa: F401 (fixtures and helpers)
