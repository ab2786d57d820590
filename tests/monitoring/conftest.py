from tests.training.conftest import credit_small, trainer, write_config  # noqa: F401 (fixtures)
