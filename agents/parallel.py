"""FSDP2 for the trainer (`--parallel fsdp`): shard, gather for sampling, full states.

Sharding: every decoder layer is one `fully_shard` unit and the root (embeddings, final
norm, head) another, so each rank stores 1/world of every parameter, gradient and AdamW
moment. A unit's parameters are all-gathered for its forward and backward and freed
after; the root keeps its own between forward and backward (it is needed again at once).

Sampling (rollouts, the self-teacher's targets, evaluation) runs many small forwards,
and their number differs between ranks (a rank stops when its own completions end), so
it runs inside `gathered(model)`: every unit all-gathered once and kept whole until the
block ends. No collective runs inside the block, so ranks may do different work there,
and rank 0 alone may evaluate while the others wait at the next collective.

Gradients: FSDP reduce-scatters the mean over ranks, (1/W) sum_r g_r. The trainer scales
rank r's token-mean loss by n_r / N (its share of the global token count N), so the
global-batch gradient is the *sum* sum_r g_r; multiplying the loss by W (`LOSS_SCALE`)
turns FSDP's mean into that sum, as DDP's summed all-reduce does.

Checkpoints hold full (unsharded) model and optimizer states keyed by parameter names:
every rank takes part in gathering them (rank 0 receives them, on the CPU), and every
rank loads the full state back into its own shards.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import torch


def decoder_layers(model: torch.nn.Module) -> list[torch.nn.Module]:
    """The repeated blocks: `model.model.layers` (Llama, Qwen2, Mistral), else the longest ModuleList."""
    layers = getattr(getattr(model, "model", None), "layers", None)
    if isinstance(layers, torch.nn.ModuleList) and len(layers) > 0:
        return list(layers)
    lists = [m for m in model.modules() if isinstance(m, torch.nn.ModuleList) and len(m) > 0]
    return list(max(lists, key=len)) if lists else []


def shard(model: torch.nn.Module, world: int) -> torch.nn.Module:
    """fully_shard each decoder layer, then the root, over `world` ranks on the model's device type."""
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard

    mesh = init_device_mesh(next(model.parameters()).device.type, (world,))
    for layer in decoder_layers(model):
        fully_shard(layer, mesh=mesh)
    fully_shard(model, mesh=mesh, reshard_after_forward=False)
    return model


def _units(model: torch.nn.Module) -> list[Any]:
    from torch.distributed.fsdp import FSDPModule

    return [m for m in model.modules() if isinstance(m, FSDPModule)]


def is_sharded(model: torch.nn.Module) -> bool:
    return bool(_units(model))


@contextmanager
def gathered(model: torch.nn.Module) -> Iterator[None]:
    """Whole parameters on every rank for the block (all ranks must enter it); a no-op unsharded."""
    units = _units(model)
    for unit in units:
        unit.unshard()
        unit.set_reshard_after_forward(False, recurse=False)
    try:
        yield
    finally:
        for unit in units:
            unit.set_reshard_after_forward(unit is not model, recurse=False)
            unit.reshard()


def scalar(value: torch.Tensor) -> float:
    """A float from a tensor that may be a DTensor (e.g. clip_grad_norm_'s total norm under FSDP)."""
    full = getattr(value, "full_tensor", None)
    return float(full() if full is not None else value)


def _options(**kw: bool) -> Any:
    from torch.distributed.checkpoint.state_dict import StateDictOptions

    return StateDictOptions(full_state_dict=True, **kw)


def full_states(model: torch.nn.Module, optimizer: Any = None) -> tuple[dict, dict | None]:
    """(model state, optimizer state), unsharded on rank 0's CPU (empty on the others). Collective."""
    from torch.distributed.checkpoint.state_dict import get_model_state_dict, get_optimizer_state_dict

    model_state = get_model_state_dict(model, options=_options(cpu_offload=True))
    optim_state = get_optimizer_state_dict(model, optimizer, options=_options(cpu_offload=True)) \
        if optimizer is not None else None
    return model_state, optim_state


def load_full_states(model: torch.nn.Module, optimizer: Any, model_state: dict, optim_state: dict) -> None:
    """Load full states (as `full_states` returns them on rank 0) into this rank's shards. Collective."""
    from torch.distributed.checkpoint.state_dict import set_model_state_dict, set_optimizer_state_dict

    set_model_state_dict(model, model_state, options=_options())
    set_optimizer_state_dict(model, optimizer, optim_state, options=_options())
