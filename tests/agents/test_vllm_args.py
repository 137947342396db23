import pytest

from agents.types import SamplingConfig
from agents.vllm_policy import (llm_kwargs, request_sampling_kwargs, sampling_kwargs, scoring_kwargs,
                                topk_from_prompt_logprobs)
from distil_envs.errors import MissingDependencyError


def test_sampling_kwargs_follow_the_config():
    kw = sampling_kwargs(SamplingConfig(temperature=0.7, top_p=0.9, top_k=0, max_new_tokens=64, stop=("\n\n",),
                                        seed=3), n=8)
    assert kw == dict(n=8, temperature=0.7, top_p=0.9, top_k=0, max_tokens=64, stop=["\n\n"], seed=3, logprobs=0,
                      include_stop_str_in_output=False, skip_special_tokens=True)
    assert sampling_kwargs(SamplingConfig(top_k=5), n=1)["top_k"] == 5
    with pytest.raises(ValueError, match="n=0"):
        sampling_kwargs(SamplingConfig(), n=0)


def test_request_sampling_kwargs_give_each_prompt_its_seed():
    cfg = SamplingConfig(max_new_tokens=8, seed=3)
    assert [kw["seed"] for kw in request_sampling_kwargs(cfg, 2, 3)] == [3, 3, 3]
    seeded = request_sampling_kwargs(cfg, 2, 3, seeds=[5, 6, 7])
    assert [kw["seed"] for kw in seeded] == [5, 6, 7]
    assert all({**kw, "seed": 3} == sampling_kwargs(cfg, 2) for kw in seeded)
    with pytest.raises(ValueError, match="one seed per prompt"):
        request_sampling_kwargs(cfg, 2, 3, seeds=[1])


def test_llm_kwargs_use_processed_logprobs_and_sleep_mode():
    kw = llm_kwargs("Qwen/Qwen2.5-0.5B", max_model_len=4096, max_logprobs=50, tensor_parallel_size=2)
    assert kw["logprobs_mode"] == "processed_logprobs" and kw["enable_sleep_mode"] is True
    assert kw["max_model_len"] == 4096 and kw["max_logprobs"] == 50 and kw["tensor_parallel_size"] == 2
    with pytest.raises(ValueError, match="gpu_memory_utilization"):
        llm_kwargs("m", gpu_memory_utilization=1.5)


def test_scoring_kwargs_only_score_the_prompt():
    assert scoring_kwargs(20) == dict(n=1, max_tokens=1, temperature=1.0, prompt_logprobs=20, detokenize=False)


def test_topk_from_prompt_logprobs_aligns_with_completion_positions():
    class Logprob:  # vLLM's Logprob has .logprob
        def __init__(self, v):
            self.logprob = v

    # context of 2 tokens, completion [7, 9]; vLLM adds the actual token when outside the top-k
    prompt_lp = [None, {5: Logprob(-0.1)},
                 {7: Logprob(-0.5), 3: Logprob(-1.0), 4: Logprob(-2.0)},
                 {8: Logprob(-0.2), 2: Logprob(-0.3), 9: Logprob(-4.0)}]
    ids, lps, actual = topk_from_prompt_logprobs(prompt_lp, 2, [7, 9], k=2)
    assert ids == [[7, 3], [8, 2]] and lps == [[-0.5, -1.0], [-0.2, -0.3]]
    assert actual == [-0.5, -4.0]


def test_missing_vllm_names_the_extra():
    try:
        import vllm  # noqa: F401
        pytest.skip("vllm is installed here")
    except ImportError:
        pass
    from agents.vllm_policy import VLLMPolicy

    with pytest.raises(MissingDependencyError, match=r"distil-envs\[vllm\]"):
        VLLMPolicy("some/model")


@pytest.mark.gpu
def test_vllm_generate_and_score_agree(tiny_path):
    pytest.importorskip("vllm")
    from agents.vllm_policy import VLLMPolicy

    policy = VLLMPolicy(str(tiny_path), dtype="float32", gpu_memory_utilization=0.2)
    out = policy.generate(["What is 2+2?"], n=4, sampling=SamplingConfig(max_new_tokens=16, seed=0))
    assert len(out[0]) == 4
    c = out[0][0]
    scored = policy.score([c.prompt_token_ids], [c.token_ids])[0]
    assert scored.shape[0] == len(c.token_ids)
    assert (scored - __import__("torch").tensor(c.logprobs)).abs().max() < 1e-2
