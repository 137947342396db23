"""Identities and exactness checks of the losses (PAPER.md is the specification): agents/losses.py,
agents/topk.py (select_topk) and agents/loss_rows.py (the chunked runner)."""

import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from agents.losses import (
    chunked_distil_loss,
    chunked_sdpo_loss,
    distil_loss,
    generalized_jsd,
    grpo_loss,
    opsd_loss,
    sdpo_loss,
    select_topk,
)
from agents.types import TeacherTargets

V = 3
HORIZON = 3


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny tensors: intra-op threads only add contention on a shared machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ----------------------------------------------------------------------------- tabular tree MDP

def _sequences(eos):
    """Every complete completion of the tree MDP; with `eos`, that token ends the episode early."""
    out = []

    def grow(prefix):
        if len(prefix) == HORIZON or (prefix and prefix[-1] == eos):
            out.append(tuple(prefix))
            return
        for a in range(V):
            grow(prefix + [a])
    grow([])
    return out


class TreeMDP:
    """State = the prefix y_<t; student pi(.|s) = softmax(theta[s]); teacher q(.|s) fixed, random."""

    def __init__(self, eos=None, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.seqs = _sequences(eos)
        prefixes = sorted({s[:t] for s in self.seqs for t in range(len(s))})
        self.state = {p: i for i, p in enumerate(prefixes)}
        n = len(prefixes)
        self.theta = torch.randn(n, V, generator=g, dtype=torch.float64)
        self.log_q = torch.log(torch.distributions.Dirichlet(torch.ones(V, dtype=torch.float64)).sample((n,)))

    def batch(self, seqs, theta):
        """(logits, teacher log-probs with nan on padding, tokens padded with -100, mask) for `seqs`."""
        B = len(seqs)
        logits = torch.zeros(B, HORIZON, V, dtype=torch.float64)
        teacher = torch.full((B, HORIZON, V), float("nan"), dtype=torch.float64)
        tokens = torch.full((B, HORIZON), -100, dtype=torch.long)
        mask = torch.zeros(B, HORIZON)
        rows = []
        for b, y in enumerate(seqs):
            for t in range(len(y)):
                rows.append((b, t, self.state[y[:t]]))
                tokens[b, t], mask[b, t] = y[t], 1.0
        bi, ti, si = (torch.tensor(c) for c in zip(*rows))
        logits = logits.index_put((bi, ti), theta[si])
        teacher[bi, ti] = self.log_q[si]
        return logits, teacher, tokens, mask

    def prob(self, y, theta):
        return math.prod(float(F.softmax(theta[self.state[y[:t]]], -1)[y[t]]) for t in range(len(y)))

    def objective(self, theta, cost="ce"):
        """Exact L(theta) = sum_y pi(y) sum_t c_t, enumerating every sequence."""
        total = theta.new_zeros(())
        for y in self.seqs:
            logp_seq, c = theta.new_zeros(()), theta.new_zeros(())
            for t in range(len(y)):
                s = self.state[y[:t]]
                logp = F.log_softmax(theta[s], -1)
                q = self.log_q[s].exp()
                c = c - (q * logp).sum() + ((q * self.log_q[s]).sum() if cost == "kl" else 0)
                logp_seq = logp_seq + logp[y[t]]
            total = total + logp_seq.exp() * c
        return total


def _fd_grad(f, theta, h=1e-6):
    g = torch.zeros_like(theta)
    for idx in itertools.product(*(range(n) for n in theta.shape)):
        e = torch.zeros_like(theta)
        e[idx] = h
        g[idx] = (f(theta + e) - f(theta - e)) / (2 * h)
    return g


def _rel(a, b):
    return float((a - b).norm() / b.norm())


@pytest.mark.parametrize("eos", [None, 0], ids=["fixed-length", "eos-ends-early"])
@pytest.mark.parametrize("cost", ["ce", "kl"])
def test_surrogate_expected_gradient_is_exact(eos, cost):
    mdp = TreeMDP(eos=eos, seed=1)
    fd = _fd_grad(lambda th: mdp.objective(th, cost), mdp.theta)
    grads = {}
    for future in (True, False):
        theta = mdp.theta.clone().requires_grad_(True)
        total = 0
        for y in mdp.seqs:
            logits, teacher, tokens, mask = mdp.batch([y], theta)
            loss, _ = distil_loss(logits, teacher, tokens, mask, baseline="none", future_credit=future, cost=cost)
            total = total + mdp.prob(y, mdp.theta) * loss * len(y)  # undo the per-token normalisation
        grads[future] = torch.autograd.grad(total, theta)[0]
    assert _rel(grads[True], fd) < 1e-6
    assert _rel(grads[False], fd) > 0.05  # the local term alone is not the gradient


@pytest.mark.parametrize("eos", [None, 0], ids=["fixed-length", "eos-ends-early"])
def test_leave_one_out_baseline_is_unbiased_over_iid_pairs(eos):
    """Groups of two i.i.d. rollouts, every pair enumerated: E[grad] = 2 grad L with the LOO baseline
    (sibling's G, 0 past its end), although the baseline moves each pair's gradient."""
    mdp = TreeMDP(eos=eos, seed=2)
    fd = _fd_grad(mdp.objective, mdp.theta)
    theta = mdp.theta.clone().requires_grad_(True)
    probs = {y: mdp.prob(y, mdp.theta) for y in mdp.seqs}
    total = 0
    for y1, y2 in itertools.product(mdp.seqs, repeat=2):
        logits, teacher, tokens, mask = mdp.batch([y1, y2], theta)
        loo, _ = distil_loss(logits, teacher, tokens, mask, group_ids=torch.tensor([7, 7]), baseline="loo")
        total = total + probs[y1] * probs[y2] * loo * (len(y1) + len(y2))
    grad = torch.autograd.grad(total, theta)[0]
    assert _rel(grad, 2 * fd) < 1e-6
    logits, teacher, tokens, mask = mdp.batch([mdp.seqs[0], mdp.seqs[-1]], mdp.theta)
    a, _ = distil_loss(logits, teacher, tokens, mask, group_ids=torch.tensor([0, 0]), baseline="loo")
    b, _ = distil_loss(logits, teacher, tokens, mask, group_ids=torch.tensor([0, 0]), baseline="none")
    assert not torch.isclose(a, b)  # the baseline does change a single estimate


# ----------------------------------------------------------------------------- the bandit of PAPER.md

R = torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64)  # arm 1 (0-based; "action 2" counting from 1) is the worst
PI = torch.tensor([0.01, 0.70, 0.29], dtype=torch.float64)
Q = torch.tensor([0.61, 0.37, 0.02], dtype=torch.float64)
WORST = 1


def _bandit_grad(loss_name):
    z = PI.log().clone().requires_grad_(True)
    logits, teacher = z.view(1, 1, 3), Q.log().view(1, 1, 3)
    tokens, mask = torch.zeros(1, 1, dtype=torch.long), torch.ones(1, 1)
    if loss_name == "forward_ce":
        loss, _ = distil_loss(logits, teacher, tokens, mask)
    elif loss_name == "reverse_kl":
        loss, _ = sdpo_loss(logits, teacher, tokens, mask, alpha=1.0, topk=None)
    else:
        loss, _ = sdpo_loss(logits, teacher, tokens, mask, alpha=0.5, topk=None)
    return torch.autograd.grad(loss, z)[0]


def _after(step):
    pi = F.softmax(PI.log() + step, -1)
    return float((pi * R).sum()), float(pi[WORST])


def test_bandit_forward_ce_improves_reverse_kl_and_jsd_do_not():
    assert math.isclose(float((PI * R).sum()), 0.30) and math.isclose(float((Q * R).sum()), 0.63)
    eta, J0 = 1e-3, float((PI * R).sum())
    J, worst = _after(-eta * _bandit_grad("forward_ce"))
    assert J > J0 and worst < PI[WORST]
    for name in ("reverse_kl", "jsd_0.5"):
        J, worst = _after(-eta * _bandit_grad(name))
        assert J < J0 and worst > PI[WORST], name


def test_bandit_natural_gradient_forward_ce_gains_teacher_minus_student():
    """dJ of a natural-gradient step = eta (J(q) - J(pi)) to first order (the paper's monotone claim)."""
    fisher = torch.diag(PI) - torch.outer(PI, PI)
    eta = 1e-5
    step = -eta * torch.linalg.pinv(fisher) @ _bandit_grad("forward_ce")
    J, _ = _after(step)
    gain = (J - float((PI * R).sum())) / eta
    assert gain == pytest.approx(float(((Q - PI) * R).sum()), rel=1e-3)


# ----------------------------------------------------------------------------- identities

def _random_batch(B=4, T=6, Vb=11, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(B, T, Vb, generator=g, dtype=dtype)
    teacher = F.log_softmax(torch.randn(B, T, Vb, generator=g, dtype=dtype) * 2, -1)
    tokens = torch.randint(0, Vb, (B, T), generator=g)
    lengths = torch.randint(2, T + 1, (B,), generator=g)
    mask = (torch.arange(T) < lengths.unsqueeze(-1)).float()
    return logits, teacher, tokens, mask


def test_local_term_has_zero_gradient_when_student_equals_teacher():
    logits, _, tokens, mask = _random_batch()
    logits.requires_grad_(True)
    teacher = F.log_softmax(logits.detach(), -1)
    for cost in ("ce", "kl"):
        loss, _ = distil_loss(logits, teacher, tokens, mask, future_credit=False, cost=cost)
        assert torch.autograd.grad(loss, logits)[0].abs().max() < 1e-12
    for alpha in (0.0, 0.3, 1.0):
        loss, _ = sdpo_loss(logits, teacher, tokens, mask, alpha=alpha, topk=None)
        assert abs(float(loss.detach())) < 1e-12
        assert torch.autograd.grad(loss, logits)[0].abs().max() < 1e-12


def test_generalized_jsd_is_continuous_at_both_ends():
    logits, teacher, tokens, mask = _random_batch()
    s = F.log_softmax(logits, -1)
    forward, reverse = generalized_jsd(s, teacher, 0.0), generalized_jsd(s, teacher, 1.0)
    assert torch.allclose(forward, (teacher.exp() * (teacher - s)).sum(-1))
    assert torch.allclose(reverse, (s.exp() * (s - teacher)).sum(-1))
    for end, limit in ((0.0, forward), (1.0, reverse)):
        err = [float(((generalized_jsd(s, teacher, abs(end - eps)) - limit) / limit).abs().max())
               for eps in (1e-4, 1e-6)]
        assert err[1] < 1e-3 and err[1] < err[0] / 50  # converges linearly in the distance to the end
    at0, _ = sdpo_loss(logits, teacher, tokens, mask, alpha=0.0, topk=None)
    near0, _ = sdpo_loss(logits, teacher, tokens, mask, alpha=1e-6, topk=None)
    at1, _ = sdpo_loss(logits, teacher, tokens, mask, alpha=1.0, topk=None)
    near1, _ = sdpo_loss(logits, teacher, tokens, mask, alpha=1 - 1e-6, topk=None)
    assert float(near0) == pytest.approx(float(at0), rel=1e-4)
    assert float(near1) == pytest.approx(float(at1), rel=1e-4)
    raw, _ = sdpo_loss(logits, teacher, tokens, mask, alpha=0.5, topk=None, scale="raw")
    cont, _ = sdpo_loss(logits, teacher, tokens, mask, alpha=0.5, topk=None)
    assert float(cont) == pytest.approx(4 * float(raw))


def test_topk_with_k_equal_to_vocabulary_matches_full_vocabulary():
    logits, teacher, tokens, mask = _random_batch()
    logits.requires_grad_(True)
    gid = torch.tensor([0, 0, 1, 1])
    full, _ = distil_loss(logits, teacher, tokens, mask, group_ids=gid)
    g_full = torch.autograd.grad(full, logits)[0]
    order = teacher.argsort(-1, descending=True)
    targets = TeacherTargets(topk_ids=order, topk_logprobs=teacher.gather(-1, order), mask=mask)
    cases = [(targets, {}), (teacher, {"topk": 11, "topk_rule": "student"}),
             (teacher, {"topk": 11, "topk_rule": "union"}), (teacher, {"topk": 50, "topk_rule": "teacher"})]
    for target, options in cases:
        loss, _ = distil_loss(logits, target, tokens, mask, group_ids=gid, **options)
        assert torch.allclose(loss, full, atol=1e-12), options
        assert torch.allclose(torch.autograd.grad(loss, logits)[0], g_full, atol=1e-12), options
    for alpha in (0.0, 0.5, 1.0):
        a, _ = sdpo_loss(logits, teacher, tokens, mask, alpha=alpha, topk=None)
        b, _ = sdpo_loss(logits, teacher, tokens, mask, alpha=alpha, topk=11)
        assert torch.allclose(a, b, atol=1e-10)


def test_tail_bucket_makes_each_truncated_distribution_sum_to_one():
    logits, teacher, _, _ = _random_batch(Vb=40)
    s = F.log_softmax(logits, -1)
    for rule in ("teacher", "student", "union"):
        st, tt, s_mass, t_mass = select_topk(s, teacher, k=5, rule=rule)
        assert torch.allclose(st.exp().sum(-1), torch.ones(()).double())
        assert torch.allclose(tt.exp().sum(-1), torch.ones(()).double())
        assert bool((s_mass < 1).all() and (t_mass < 1).all())
    _, _, s_mass, t_mass = select_topk(s, teacher, k=5, rule="union")
    _, _, s5, t5 = select_topk(s, teacher, k=5, rule="teacher")
    assert bool((t_mass >= t5 - 1e-12).all() and (s_mass >= s5 - 1e-12).all())  # union keeps more, never twice
    ids = teacher.topk(5, -1).indices
    st, tt, _, _ = select_topk(s, None, teacher_ids=ids, teacher_topk_logprobs=teacher.gather(-1, ids))
    assert torch.allclose(st.exp().sum(-1), torch.ones(()).double())
    assert torch.allclose(tt.exp().sum(-1), torch.ones(()).double())
    padded_ids = torch.cat([ids[..., :4], torch.full_like(ids[..., :1], -1)], -1)  # expert padding
    padded_lp = torch.cat([teacher.gather(-1, ids[..., :4]), torch.full_like(st[..., :1], float("-inf"))], -1)
    a = select_topk(s, None, teacher_ids=padded_ids, teacher_topk_logprobs=padded_lp)
    b = select_topk(s, None, teacher_ids=ids[..., :4], teacher_topk_logprobs=teacher.gather(-1, ids[..., :4]))
    assert torch.allclose(a[0][..., -1], b[0][..., -1]) and torch.allclose(a[1][..., -1], b[1][..., -1])
    assert torch.allclose(a[2], b[2]) and torch.allclose(a[3], b[3])
    with pytest.raises(ValueError, match="topk_rule='teacher'"):
        select_topk(s, None, rule="student", teacher_ids=ids, teacher_topk_logprobs=teacher.gather(-1, ids))


def test_masks_exclude_padding_and_rollouts_without_signal():
    logits, teacher, tokens, mask = _random_batch(B=3, seed=3)
    mask[0, 4:] = 0
    gid = torch.tensor([0, 0, 0])
    keep = TeacherTargets(topk_ids=teacher.topk(4, -1).indices, topk_logprobs=teacher.topk(4, -1).values,
                          mask=torch.tensor([[1.0], [1.0], [0.0]]).expand(3, 6).clone())
    noisy_logits = logits.clone()
    noisy_logits[2] = 1e3 * torch.randn_like(noisy_logits[2])  # the no-signal rollout must not matter
    noisy_logits[0, mask[0] == 0] = -1e3
    keep.topk_logprobs[0, mask[0] == 0] = float("nan")  # nor what the expert left on padding
    tokens_padded = tokens.masked_fill(mask == 0, -100)
    noisy_logits.requires_grad_(True)
    loss, metrics = distil_loss(noisy_logits, keep, tokens_padded, mask, group_ids=gid)
    grad = torch.autograd.grad(loss, noisy_logits)[0]
    assert torch.isfinite(loss) and bool(torch.isfinite(grad).all())
    assert grad[2].abs().max() == 0 and grad[0, mask[0] == 0].abs().max() == 0
    two = TeacherTargets(topk_ids=keep.topk_ids[:2], topk_logprobs=keep.topk_logprobs[:2], mask=keep.mask[:2])
    ref, _ = distil_loss(logits[:2], two, tokens_padded[:2], mask[:2], group_ids=gid[:2])
    assert torch.allclose(loss, ref)
    assert metrics["distil/tokens"] == float(mask[:2].sum()) and metrics["distil/active_rollouts"] == 2.0
    for fn in (lambda: sdpo_loss(noisy_logits, keep, tokens_padded, mask, topk_rule="teacher"),):
        l, _ = fn()
        g = torch.autograd.grad(l, noisy_logits)[0]
        assert torch.isfinite(l) and g[2].abs().max() == 0 and g[0, mask[0] == 0].abs().max() == 0


def test_normalised_by_the_number_of_real_tokens():
    logits, teacher, tokens, mask = _random_batch(B=2, seed=4)
    both, m = distil_loss(logits, teacher, tokens, mask, baseline="none")
    parts = [distil_loss(logits[i:i + 1], teacher[i:i + 1], tokens[i:i + 1], mask[i:i + 1], baseline="none")[0]
             for i in range(2)]
    n = mask.sum(-1)
    assert torch.allclose(both, (parts[0] * n[0] + parts[1] * n[1]) / n.sum())
    assert m["distil/tokens"] == float(n.sum())
    # padding more positions changes nothing
    pad = lambda x, v: torch.cat([x, torch.full_like(x[:, :3], v)], dim=1)
    longer, _ = distil_loss(pad(logits, 0.0), pad(teacher, 0.0), pad(tokens, 0), pad(mask, 0.0), baseline="none")
    assert torch.allclose(longer, both)
    grpo, _ = grpo_loss(logits[..., 0], logits[..., 0], torch.tensor([0.0, 1.0]), torch.tensor([0, 0]), mask,
                        scale="none")
    assert float(grpo) == pytest.approx(float(-(torch.tensor([-0.5, 0.5]) * n).sum() / n.sum()))


@pytest.mark.parametrize("teacher_kind", ["topk", "full"])
def test_chunked_equals_naive_loss_and_gradients_float32(teacher_kind):
    g = torch.Generator().manual_seed(5)
    B, T, H, Vb = 3, 9, 16, 50
    hidden = torch.randn(B, T, H, generator=g, requires_grad=True)
    weight = (0.3 * torch.randn(Vb, H, generator=g)).requires_grad_(True)
    t_full = F.log_softmax(2 * torch.randn(B, T, Vb, generator=g), -1)
    tokens = torch.randint(0, Vb, (B, T), generator=g)
    mask = torch.ones(B, T)
    mask[1, 6:] = 0
    if teacher_kind == "topk":
        top = t_full.topk(8, -1)
        teacher = TeacherTargets(topk_ids=top.indices, topk_logprobs=top.values, mask=mask)
        options = {}
    else:
        teacher, options = t_full, {"topk": 8, "topk_rule": "union"}
    gid = torch.tensor([0, 0, 1])
    results = []
    for chunked in (False, True):
        if chunked:
            loss, metrics = chunked_distil_loss(hidden, weight, teacher, tokens, mask, chunk_size=7,
                                                group_ids=gid, **options)
        else:
            loss, metrics = distil_loss(hidden @ weight.T, teacher, tokens, mask, group_ids=gid, **options)
        results.append((loss, *torch.autograd.grad(loss, (hidden, weight)), metrics))
    (l0, gh0, gw0, m0), (l1, gh1, gw1, m1) = results
    assert abs(float((l0 - l1).detach())) < 1e-5
    assert (gh0 - gh1).abs().max() < 1e-5 and (gw0 - gw1).abs().max() < 1e-5
    assert m0["teacher/mass"] == pytest.approx(m1["teacher/mass"], abs=1e-6)
    if teacher_kind == "full":
        s0, _ = sdpo_loss(hidden @ weight.T, t_full, tokens, mask, topk=8)
        s1, _ = chunked_sdpo_loss(hidden, weight, t_full, tokens, mask, topk=8, chunk_size=5)
        assert abs(float((s0 - s1).detach())) < 1e-5
        d0 = torch.autograd.grad(s0, weight)[0]
        d1 = torch.autograd.grad(s1, weight)[0]
        assert (d0 - d1).abs().max() < 1e-5


def test_sdpo_importance_ratio_is_clamped():
    logits, teacher, tokens, mask = _random_batch(seed=6)
    logp_y = F.log_softmax(logits, -1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
    on, _ = sdpo_loss(logits, teacher, tokens, mask, topk=None)
    same, m = sdpo_loss(logits, teacher, tokens, mask, topk=None, old_logprobs=logp_y)
    assert torch.allclose(on, same) and m["sdpo/is_ratio"] == pytest.approx(1.0)
    far, m = sdpo_loss(logits, teacher, tokens, mask, topk=None, old_logprobs=logp_y - 5.0)
    assert torch.allclose(far, 2.0 * on) and m["sdpo/is_ratio"] == pytest.approx(2.0)


def test_opsd_temperature_and_topk():
    logits, teacher_logits, tokens, mask = _random_batch(seed=7, Vb=30)
    loss, _ = opsd_loss(logits, teacher_logits, tokens, mask, beta=0.5, temperature=2.0)
    s, t = F.log_softmax(logits / 2, -1), F.log_softmax(teacher_logits / 2, -1)
    expect = (generalized_jsd(s, t, 0.5) * mask).sum() / mask.sum()
    assert torch.allclose(loss, expect)
    _, m = opsd_loss(logits, teacher_logits, tokens, mask, topk=5)
    assert 0 < m["teacher/mass"] < 1
    top = teacher_logits.topk(5, -1)
    with pytest.raises(ValueError, match="temperature"):
        opsd_loss(logits, TeacherTargets(top.indices, top.values, mask), tokens, mask, temperature=1.1)


def test_grpo_equal_rewards_give_zero_advantage_and_gradient():
    logp = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
    loss, m = grpo_loss(logp, logp.detach() + 0.1, torch.ones(4), torch.tensor([0, 0, 1, 1]), torch.ones(4, 5))
    assert float(loss.detach()) == 0 and torch.autograd.grad(loss, logp)[0].abs().max() == 0
    assert m["grpo/advantage_abs"] == 0


def test_grpo_clipping():
    # rollout 0 wins (A > 0), rollout 1 loses (A < 0); tokens at ratios 0.5, 1.0 and 1.5
    ratio = torch.tensor([[0.5, 1.0, 1.5], [0.5, 1.0, 1.5]], dtype=torch.float64)
    old = torch.zeros(2, 3, dtype=torch.float64)
    logp = ratio.log().requires_grad_(True)
    loss, m = grpo_loss(logp, old, torch.tensor([1.0, 0.0]), torch.tensor([3, 3]), torch.ones(2, 3))
    grad = torch.autograd.grad(loss, logp)[0]
    # A > 0: clipped above 1.28 (no gradient at 1.5); A < 0: clipped below 0.8 (none at 0.5)
    assert grad[0, 2] == 0 and grad[1, 0] == 0
    assert grad[0, 0] < 0 and grad[0, 1] < 0 and grad[1, 1] > 0 and grad[1, 2] > 0
    assert m["grpo/clip_frac"] == pytest.approx(2 / 6)
    assert m["grpo/clip_high_frac"] == pytest.approx(1 / 6) and m["grpo/clip_low_frac"] == pytest.approx(1 / 6)
    sym, _ = grpo_loss(logp, old, torch.tensor([1.0, 0.0]), torch.tensor([3, 3]), torch.ones(2, 3), clip_high=0.6)
    assert torch.autograd.grad(sym, logp)[0][0, 2] < 0  # 1.5 < 1.6: not clipped any more


def test_bad_inputs_raise_clear_errors():
    logits, teacher, tokens, mask = _random_batch()
    with pytest.raises(ValueError, match="baseline"):
        distil_loss(logits, teacher, tokens, mask, baseline="median")
    with pytest.raises(ValueError, match=r"\(B, T, V\)"):
        distil_loss(logits, teacher[:, :2], tokens, mask)
    with pytest.raises(ValueError, match="outside"):
        distil_loss(logits, teacher, tokens + 100, mask)
    with pytest.raises(ValueError, match="group_ids"):
        distil_loss(logits, teacher, tokens, mask, group_ids=torch.zeros(3))
    with pytest.raises(ValueError, match="alpha"):
        sdpo_loss(logits, teacher, tokens, mask, alpha=1.5)


def test_cost_to_go_options_change_only_the_future_term():
    logits, teacher, tokens, mask = _random_batch(B=4, T=8, seed=8)
    gid = torch.tensor([0, 0, 0, 1])
    local, _ = distil_loss(logits, teacher, tokens, mask, future_credit=False)
    _, plain = distil_loss(logits, teacher, tokens, mask, group_ids=gid)
    _, clipped = distil_loss(logits, teacher, tokens, mask, group_ids=gid, clip_cost_to_go=0.5)
    assert clipped["distil/advantage_abs"] <= 0.5 < plain["distil/advantage_abs"]
    _, std = distil_loss(logits, teacher, tokens, mask, group_ids=gid, normalize_cost_to_go="group_std")
    _, length = distil_loss(logits, teacher, tokens, mask, group_ids=gid, normalize_cost_to_go="length")
    assert 0.2 < std["distil/advantage_abs"] < 2 < plain["distil/advantage_abs"]  # A / std(A) is O(1)
    assert length["distil/advantage_abs"] < plain["distil/advantage_abs"]
    for m in (clipped, std, length):
        assert m["distil/cost"] == pytest.approx(plain["distil/cost"])
    assert plain["distil/cost"] == pytest.approx(float(local))


def test_chunked_rejects_unknown_options():
    hidden, weight = torch.randn(1, 3, 4), torch.randn(7, 4)
    with pytest.raises(TypeError, match="baselin"):
        chunked_distil_loss(hidden, weight, torch.zeros(1, 3, 7), torch.zeros(1, 3, dtype=torch.long),
                            torch.ones(1, 3), baselin="loo")


def test_chunked_with_bias_and_frozen_head():
    g = torch.Generator().manual_seed(9)
    hidden = torch.randn(2, 5, 8, generator=g, requires_grad=True)
    weight, bias = torch.randn(20, 8, generator=g), torch.randn(20, generator=g, requires_grad=True)
    teacher = F.log_softmax(torch.randn(2, 5, 20, generator=g), -1)
    tokens, mask = torch.randint(0, 20, (2, 5), generator=g), torch.ones(2, 5)
    a, _ = distil_loss(F.linear(hidden, weight, bias), teacher, tokens, mask, topk=4)
    b, _ = chunked_distil_loss(hidden, weight, teacher, tokens, mask, topk=4, lm_head_bias=bias, chunk_size=3)
    ga, gb = torch.autograd.grad(a, (hidden, bias)), torch.autograd.grad(b, (hidden, bias))
    assert abs(float((a - b).detach())) < 1e-5
    assert all((x - y).abs().max() < 1e-5 for x, y in zip(ga, gb))
