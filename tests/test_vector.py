"""Vector envs with text observations."""

import gymnasium as gym
from gymnasium.vector import AutoresetMode

import distil_envs  # noqa: F401

ENV_ID = "distil/math-arithmetic-v0"


def test_sync_vector_env():
    envs = gym.make_vec(ENV_ID, num_envs=3, vectorization_mode="sync")
    prompts, infos = envs.reset(seed=0)
    assert len(prompts) == 3 and all(isinstance(p, str) for p in prompts)
    tasks = [env.unwrapped.task for env in envs.envs]
    actions = tuple(env.unwrapped.reference_completion(task) for env, task in zip(envs.envs, tasks))
    observations, rewards, terminated, truncated, infos = envs.step(actions)
    assert list(rewards) == [1.0, 1.0, 1.0] and all(terminated)
    envs.close()


def test_async_vector_env_with_text():
    """As the README says: shared memory off, same-step autoreset."""
    envs = gym.make_vec(ENV_ID, num_envs=2, vectorization_mode="async",
                        vector_kwargs={"shared_memory": False, "autoreset_mode": AutoresetMode.SAME_STEP})
    prompts, _ = envs.reset(seed=0)
    assert len(prompts) == 2 and all("?" in p or p for p in prompts)
    observations, rewards, terminated, truncated, infos = envs.step(("\\boxed{-1}", "no idea"))
    assert list(rewards) == [0.0, 0.0] and all(terminated)
    # same-step autoreset: the returned observations are already the next prompts
    assert all(isinstance(o, str) and o for o in observations)
    assert "final_obs" in infos
    envs.close()
