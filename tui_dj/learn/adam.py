"""Adam, written out: the same arithmetic as torch.optim.Adam's single-tensor path.

torch.optim's base class imports torch._dynamo on first use, which costs about 1.9 s and 76 MB
before the console can show its first song; this small class does the one thing we need from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch


class Adam:
    """Adam without weight decay or amsgrad (Kingma and Ba, 2015), as torch computes it on a CPU."""

    def __init__(self, params: Iterable[torch.Tensor], lr: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        self.params = list(params)
        self.lr, self.betas, self.eps = lr, betas, eps
        self.steps = 0.0
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        beta1, beta2 = self.betas
        self.steps += 1.0
        step_size = self.lr / (1 - beta1**self.steps)
        bias_correction2_sqrt = (1 - beta2**self.steps) ** 0.5
        for p, exp_avg, exp_avg_sq in zip(self.params, self.exp_avg, self.exp_avg_sq, strict=True):
            if p.grad is None:
                continue
            exp_avg.lerp_(p.grad, 1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
            denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(self.eps)
            p.addcdiv_(exp_avg, denom, value=-step_size)

    def state_dict(self) -> dict[str, Any]:
        """Plain tensors and numbers, so a checkpoint loads with `weights_only=True`."""
        return {
            "steps": self.steps,
            "exp_avg": [t.clone() for t in self.exp_avg],
            "exp_avg_sq": [t.clone() for t in self.exp_avg_sq],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        saved = [state["exp_avg"], state["exp_avg_sq"]]
        for own, theirs in zip((self.exp_avg, self.exp_avg_sq), saved, strict=True):
            if len(theirs) != len(own) or any(a.shape != b.shape for a, b in zip(own, theirs, strict=True)):
                raise ValueError("optimizer state is for a network of another shape")
        for own, theirs in zip((self.exp_avg, self.exp_avg_sq), saved, strict=True):
            for a, b in zip(own, theirs, strict=True):
                a.copy_(b)
        self.steps = float(state["steps"])
