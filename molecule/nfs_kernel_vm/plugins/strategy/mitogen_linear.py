"""Mitogen's linear strategy, for this scenario's VMs only (molecule.yml says why).

Ansible finds strategy plugins by directory; the mitogen package (requirements.txt) is in
the venv, so this file only names its strategy: the linear strategy with mitogen's
connection and action wrappers (mitogen docs, "Installation").
"""
from __future__ import annotations

import ansible_mitogen.loaders
import ansible_mitogen.strategy


class StrategyModule(ansible_mitogen.strategy.StrategyMixin,
                     ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)):
    """The linear strategy, with each VM's modules run in one Python kept by mitogen."""
