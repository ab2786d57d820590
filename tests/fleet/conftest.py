from tests.serving.conftest import MODEL, features, served  # noqa: F401 (fixtures and helpers)
from tests.training.conftest import credit_small  # noqa: F401 (fixture)
