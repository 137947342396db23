import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")


@pytest.fixture(scope="session")
def tiny_path():
    """The cached tiny model (built once, a few seconds)."""
    from agents.tiny import ensure_tiny_model

    return ensure_tiny_model("tiny")


@pytest.fixture(scope="session")
def tiny_policy(tiny_path):
    from agents.policy import HFPolicy

    return HFPolicy.from_pretrained(tiny_path)
