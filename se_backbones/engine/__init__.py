"""The training harness: the Runner built from a config and command-line options (runner), the
RNG-state hook for exact resume (hooks) and the pictures of a run (visualization). The model code
(layers, backbones, weights) imports nothing from here."""

from .hooks import RNGStateHook

__all__ = ['RNGStateHook']
