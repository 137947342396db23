"""Agents: policies, experts (teachers), losses and the on-policy trainer."""
